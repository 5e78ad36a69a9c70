"""One settings module, driven by environment variables with safe local defaults.

``EXPATSI_DEBUG`` defaults to off, so a forgotten setting never shows tracebacks to the public: then
(production) the app refuses to start on the built-in development secret, and turns on HTTPS-only
cookies and HSTS. Local use turns it on explicitly: ``make demo`` and the test suite
(``tests/settings.py``) set ``EXPATSI_DEBUG=1``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

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


SQLITE_BUSY_TIMEOUT = 20  # seconds a SQLite connection waits for another's write to finish


def database_from_url(url: str) -> dict[str, object]:
    """``postgresql://user:pass@host:port/name?sslmode=…`` or ``sqlite:///path`` → Django settings."""
    parts = urlsplit(url)
    if parts.scheme in ("sqlite", "sqlite3"):
        path = unquote(parts.path)
        name = path[1:] if path.startswith("//") else path
        db_path = Path(name or VAR_DIR / "expatsi.sqlite3")
        if str(db_path) != ":memory:":
            db_path.parent.mkdir(parents=True, exist_ok=True)
        # Concurrent requests must wait for the write lock, not fail with "database is locked":
        # WAL lets reads run beside a writer; IMMEDIATE takes the write lock when a transaction
        # starts (a read that later writes, like an audited read, cannot then deadlock another
        # writer, which SQLite answers at once with SQLITE_BUSY); the busy timeout is the wait.
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name or str(VAR_DIR / "expatsi.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": SQLITE_BUSY_TIMEOUT,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
        }
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": int(os.environ.get("EXPATSI_DB_CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r}: use postgresql:// or sqlite:///"
    )


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
# and the portal answer 413. Uploaded files do not count: the card photo and the bulk imports
# stream to disk and have their own limits where they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Online card checks per client address per minute (public page and POST /api/v1/verify).
EXPATSI_VERIFY_RATE_PER_MINUTE = int(os.environ.get("EXPATSI_VERIFY_RATE_PER_MINUTE", "30"))

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

# Mail: console locally; SMTP when EXPATSI_EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EXPATSI_EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EXPATSI_EMAIL_PORT", "587"))
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
    SECURE_HSTS_SECONDS = int(os.environ.get("EXPATSI_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("EXPATSI_LOG_LEVEL", "INFO")},
}
