"""One settings module, driven by environment variables with safe local defaults.

Every ``EXPATSI_*`` variable is read here and nowhere else (each is in the README's configuration
table); code reads ``django.conf.settings``, so a test changes a value with ``override_settings``
or pytest-django's ``settings`` fixture, and an invalid value stops the start instead of the first
request that needs it. The pure core (``rules``, ``credentials``) takes such values as arguments.

``EXPATSI_DEBUG`` defaults to off, so a forgotten setting never shows tracebacks to the public: then
(production) the app refuses to start on the built-in development secret, and turns on HTTPS-only
cookies and HSTS. Local use turns it on explicitly: ``make demo`` and the test suite
(``tests/settings.py``) set ``EXPATSI_DEBUG=1``.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from whitenoise.compress import Compressor

from expatsi.access.clientip import parse_networks

BASE_DIR = Path(__file__).resolve().parent
# A source checkout keeps its state beside the code (./var); an installed package uses the cwd.
_CHECKOUT = BASE_DIR.parent.parent if BASE_DIR.parent.name == "src" else Path.cwd()
PROJECT_DIR = Path(os.environ.get("EXPATSI_HOME", _CHECKOUT))
VAR_DIR = Path(os.environ.get("EXPATSI_VAR_DIR", PROJECT_DIR / "var"))

_DEV_SECRET = "expatsi-dev-only-not-secret"  # noqa: S105 - refused below outside debug mode


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: use 1/0, true/false, yes/no or on/off")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return [v.strip() for v in value.split(",") if v.strip()] if value else default


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: use a whole number") from None


SQLITE_BUSY_TIMEOUT = 20  # seconds a SQLite connection waits for another's write to finish


def database_from_url(url: str) -> dict[str, Any]:
    """``DATABASE_URL`` → Django's settings, parsed by dj-database-url, plus what expatsi needs.

    Only PostgreSQL (``postgresql://user:pass@host:port/name?sslmode=…&connect_timeout=…``, query
    parameters become connection options) and SQLite (``sqlite:////absolute/path``, or
    ``sqlite:///relative/path`` from the working directory) are accepted: backup, restore and the
    billing run's locking know those two and no other.
    """
    scheme = url.partition("://")[0]
    if scheme == "sqlite3":  # accepted before dj-database-url did the parsing
        url, scheme = "sqlite" + url.removeprefix("sqlite3"), "sqlite"
    if scheme not in ("sqlite", "postgres", "postgresql", "pgsql"):
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {scheme!r}: use postgresql:// or sqlite:///"
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from None
    if scheme == "sqlite":
        # No path at all (``sqlite://``) is the default file, not dj-database-url's ``:memory:``.
        no_path = url.partition("://")[2].partition("?")[0] in ("", "/")
        name = str(VAR_DIR / "expatsi.sqlite3") if no_path else str(config["NAME"])
        if name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        # Concurrent requests must wait for the write lock, not fail with "database is locked":
        # WAL lets reads run beside a writer; IMMEDIATE takes the write lock when a transaction
        # starts (a read that later writes, like an audited read, cannot then deadlock another
        # writer, which SQLite answers at once with SQLITE_BUSY); the busy timeout is the wait.
        config["NAME"] = name
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": SQLITE_BUSY_TIMEOUT,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            **config.get("OPTIONS", {}),
        }
        return config
    config["PORT"] = str(config.get("PORT") or "")  # pg_dump's environment takes text
    config.setdefault("OPTIONS", {})
    config["CONN_MAX_AGE"] = env_int("EXPATSI_DB_CONN_MAX_AGE", 60)
    config["CONN_HEALTH_CHECKS"] = True
    return config


DEBUG = env_bool("EXPATSI_DEBUG", False)
SECRET_KEY = os.environ.get("EXPATSI_SECRET_KEY", _DEV_SECRET)
if not DEBUG and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "EXPATSI_SECRET_KEY must be set to a random value of at least 50 characters when "
        "EXPATSI_DEBUG is off (production; EXPATSI_DEBUG=1 for local development only)"
    )

ALLOWED_HOSTS = env_list("EXPATSI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("EXPATSI_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "expatsi.access.admin_apps.VerifiedAdminConfig",  # django.contrib.admin, verified sessions only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",  # runserver (make demo) leaves static files to WhiteNoise
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' Swagger UI from its own static files, not a CDN
    "expatsi.portal",
    "expatsi.web",
    "expatsi.access",
    "expatsi.audit",
    "expatsi.people",
    "expatsi.employers",
    "expatsi.insurance",
    "expatsi.notify",
    "expatsi.cards",
    "expatsi.billing",
    "expatsi.benefits",
    "expatsi.cases",
    "expatsi.demo",
    "django_tasks_db",
    "django_otp",  # two-step sign-in (expatsi.access.twofactor)
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

# Background work (django.tasks): the database backend, worked by `manage.py db_worker`.
# EXPATSI_TASKS_BACKEND=django.tasks.backends.immediate.ImmediateBackend runs jobs in-process.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("EXPATSI_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
    }
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Static files, before sessions and the rest, which a file needs none of; after the two above,
    # so that files carry HSTS, nosniff and the Content-Security-Policy like pages do.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "expatsi.access.middleware.SecondFactorMiddleware",  # after OTPMiddleware and the URL's language
]

ROOT_URLCONF = "expatsi.urls"
WSGI_APPLICATION = "expatsi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'expatsi.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Request bodies (JSON, form fields) up to 2.5 MB, Django's default, stated because above it the API
# and the portal answer 413. Uploaded files do not count: the card photo has its own limit, the
# bulk imports the one below.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Bulk import files (declarations, bank statements, hires, older permits; pages and API): at most
# this many bytes, read into memory and, between a page's preview and its Import button, kept in
# the session (expatsi.web.uploads). 10 MB is far above 5,000 rows, the most one import takes.
EXPATSI_MAX_UPLOAD_BYTES = int(os.environ.get("EXPATSI_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
if EXPATSI_MAX_UPLOAD_BYTES < 1:
    raise ImproperlyConfigured("EXPATSI_MAX_UPLOAD_BYTES must be a positive number of bytes")

# Online card checks per client address per minute (public page and POST /api/v1/verify).
EXPATSI_VERIFY_RATE_PER_MINUTE = env_int("EXPATSI_VERIFY_RATE_PER_MINUTE", 30)
# A revocation made by another process counts in online checks within this many seconds (each app
# server keeps the revoked handles in memory: cards/revocations.py).
EXPATSI_VERIFY_REVOCATION_SECONDS = env_int("EXPATSI_VERIFY_REVOCATION_SECONDS", 5)
# The checks' log is written in batches, at the latest this many seconds after a check; a process
# killed hard loses that last second of log rows (cards/verification_log.py). Off: one INSERT each.
EXPATSI_VERIFY_LOG_BUFFER = env_bool("EXPATSI_VERIFY_LOG_BUFFER", True)
EXPATSI_VERIFY_LOG_FLUSH_SECONDS = env_int("EXPATSI_VERIFY_LOG_FLUSH_SECONDS", 1)

# Reports of an employer from anyone without an account, per client address per hour (public page
# and POST /api/v1/reports; cases/public_reports.py).
EXPATSI_REPORT_RATE_PER_HOUR = env_int("EXPATSI_REPORT_RATE_PER_HOUR", 10)

# Keys: the card and audit signing keys and the data and search keys are files in one directory
# (expatsi.access.keystore), never in the database; with a password, new key files are encrypted.
EXPATSI_KEY_DIR = Path(os.environ.get("EXPATSI_KEY_DIR") or VAR_DIR / "keys")
EXPATSI_KEY_PASSWORD: str | None = os.environ.get("EXPATSI_KEY_PASSWORD") or None

# The last signed audit checkpoint, kept outside the database (expatsi.audit.services).
EXPATSI_AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("EXPATSI_AUDIT_CHECKPOINT_FILE") or VAR_DIR / "audit-checkpoint.json"
)

# Billing runs (expatsi.billing.run): employers per transaction, and how long a run may go without a
# heartbeat (one per batch) before its worker counts as gone. Both are read at each use.
EXPATSI_BILLING_BATCH = env_int("EXPATSI_BILLING_BATCH", 500)
EXPATSI_BILLING_LEASE_SECONDS = env_int("EXPATSI_BILLING_LEASE_SECONDS", 600)
# A billing job splits the region-month into at most this many partitions (contiguous employer
# ranges, at least one batch each), each a task that any `db_worker` (of one or many machines) claims.
EXPATSI_BILLING_PARTITIONS = env_int("EXPATSI_BILLING_PARTITIONS", 8)
# How many times a partition whose work raised is tried in all before its run fails: a lost
# connection or a deadlock should not fail a national run; a real defect still does, soon.
EXPATSI_BILLING_PARTITION_ATTEMPTS = env_int("EXPATSI_BILLING_PARTITION_ATTEMPTS", 3)
# A compliance scan of a region or more (the daily job's, a portal or API scan) is queued for the
# `db_worker` pool as one task per rule and employer range, in at most this many ranges (more than
# one only for more workers than rules: a range repeats each rule's region-wide reads); 0: inline.
EXPATSI_SCAN_PARTITIONS = env_int("EXPATSI_SCAN_PARTITIONS", 1)
# A scan partition started but with no heartbeat (one per rule checked) for this long lost its
# worker: the next worker that finishes a partition of the scan works it.
EXPATSI_SCAN_LEASE_SECONDS = env_int("EXPATSI_SCAN_LEASE_SECONDS", 600)

# `manage.py demo_setup` (`make demo`) only: the demo users' password and the agency demo users'
# authenticator key (empty: the published demo key, expatsi.demo.DEMO_TOTP_SECRET).
EXPATSI_DEMO_PASSWORD = os.environ.get("EXPATSI_DEMO_PASSWORD", "demo-expatsi-2026")
EXPATSI_DEMO_TOTP_SECRET = os.environ.get("EXPATSI_DEMO_TOTP_SECRET", "")

# Lump-sum payouts (expatsi.benefits): above this amount (yuan) a second agency user approves too
# (four eyes); the agency's own account the payment run's pain.001 file pays from.
try:
    EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = int(
        Decimal(os.environ.get("EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE", "50000.00")) * 100
    )
except ArithmeticError:
    raise ImproperlyConfigured(
        "EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE: an amount in yuan, e.g. 50000.00"
    ) from None
EXPATSI_PAYOUT_DEBTOR_NAME = os.environ.get("EXPATSI_PAYOUT_DEBTOR_NAME", "Social Insurance Agency")
EXPATSI_PAYOUT_DEBTOR_ACCOUNT = os.environ.get("EXPATSI_PAYOUT_DEBTOR_ACCOUNT", "0000000000000000")
EXPATSI_PAYOUT_DEBTOR_BIC = os.environ.get("EXPATSI_PAYOUT_DEBTOR_BIC", "BKCHCNBJXXX")
# The daily job (expatsi jobs run-daily) runs the previous month's pensions on this day of the month
# (1–28: every month has it); 0 turns the step off (run ``expatsi benefits pension-run`` by hand).
EXPATSI_PENSION_RUN_DAY = env_int("EXPATSI_PENSION_RUN_DAY", 5)
# The daily job queues that run as one task per region for the `db_worker` pool; 0 runs it inline.
EXPATSI_PENSION_RUNS_QUEUED = env_bool("EXPATSI_PENSION_RUNS_QUEUED", True)
if not 0 <= EXPATSI_PENSION_RUN_DAY <= 28:
    raise ImproperlyConfigured("EXPATSI_PENSION_RUN_DAY: a day of the month 1–28, or 0 for never")

# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks): the client is the
# right-most forwarded address that is not one of them (expatsi.access.clientip). Empty: REMOTE_ADDR.
EXPATSI_TRUSTED_PROXIES = env_list("EXPATSI_TRUSTED_PROXIES", [])
try:
    parse_networks(EXPATSI_TRUSTED_PROXIES)
except ValueError as exc:
    raise ImproperlyConfigured(f"EXPATSI_TRUSTED_PROXIES: {exc}") from None

# Sign-in throttling and the verification rate limit count in the cache: in-process by default;
# EXPATSI_CACHE=database shares the counts between app servers (run `manage.py createcachetable`).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "expatsi_cache"}
        if os.environ.get("EXPATSI_CACHE") == "database"
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Two-step sign-in (django-otp): the name authenticator apps show; device keys hidden in the admin.
OTP_TOTP_ISSUER = "expatsi"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Every password sign-in (portal, admin, authenticate()) goes through the sign-in throttle.
AUTHENTICATION_BACKENDS = ["expatsi.access.throttle.ThrottledModelBackend"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("EXPATSI_STATIC_ROOT", VAR_DIR / "static"))
# Static files are served by the app itself (WhiteNoise). In production `manage.py collectstatic`
# (`make serve` runs it) writes each file under a name with its content hash, gzip- and
# Brotli-compressed beside it; pages link those names, and WhiteNoise serves them cached for ten
# years ("immutable"): a changed file gets a new name. Without collectstatic production pages fail
# (the manifest is missing). In debug mode files come straight from the apps, unhashed, uncached.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Fixed when the settings load, not read from DEBUG later (the test runner turns DEBUG off): in
# debug mode files are found in the apps at each request, so nothing needs collecting.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_ALLOW_ALL_ORIGINS = False  # no other site needs our files (no CORS header on them)
# Only the hashed copies are kept, and source maps (read by browser tools alone) stay uncompressed:
# collectstatic then takes seconds, not half a minute (Brotli at its best is slow on 30 MB).
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    *Compressor.SKIP_COMPRESS_EXTENSIONS,
    "map",
]

# Mail: console locally; SMTP when EXPATSI_EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EXPATSI_EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EXPATSI_EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EXPATSI_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EXPATSI_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EXPATSI_EMAIL_TLS", True)
else:
    EMAIL_BACKEND = os.environ.get(
        "EXPATSI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
    )
DEFAULT_FROM_EMAIL = os.environ.get("EXPATSI_EMAIL_FROM", "expatsi <no-reply@localhost>")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response: scripts, styles and everything else from this site
# only, nothing inline (templates use static .js/.css files; tests/security/test_csp.py checks),
# images also as data: URLs (Swagger UI's icons), no framing, no plug-ins, forms post only here.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("EXPATSI_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("EXPATSI_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health probes (expatsi.health) come over plain HTTP from the machine or the load balancer.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("EXPATSI_LOG_LEVEL", "INFO")},
}
