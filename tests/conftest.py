"""Suite-wide safety: no test writes signing keys or state into the working tree."""

import itertools
import os

import pytest
from hypothesis import HealthCheck, settings

_audit_files = itertools.count()


@pytest.fixture(autouse=True, scope="session")
def _isolated_key_dir(tmp_path_factory: pytest.TempPathFactory):
    """The session's own key directory: in the settings of this process, and in the environment,
    from which the expatsi processes that tests start read it into theirs."""
    from django.test import override_settings

    directory = tmp_path_factory.mktemp("keys")
    previous = os.environ.get("EXPATSI_KEY_DIR")
    os.environ["EXPATSI_KEY_DIR"] = str(directory)
    in_settings = override_settings(EXPATSI_KEY_DIR=directory)
    in_settings.enable()
    from expatsi.cards import keys

    keys.reset_caches()
    keys.keys_init()  # like `expatsi card keys init` on a real installation
    from expatsi.audit.keys import audit_key_init

    audit_key_init()  # `expatsi card keys init` creates the audit key too
    from expatsi.access import crypto

    crypto.keys_init()  # `expatsi data keys init`: the data and search keys
    yield
    crypto.reset_caches()
    in_settings.disable()
    if previous is None:
        os.environ.pop("EXPATSI_KEY_DIR", None)
    else:
        os.environ["EXPATSI_KEY_DIR"] = previous


@pytest.fixture(autouse=True)
def _own_audit_checkpoint_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch, settings):
    """Every test starts from an empty database, like a new installation: it gets its own file for
    the last signed audit checkpoint, which otherwise outlives the database state it describes
    (in the settings, and in the environment for the processes the test starts)."""
    directory = tmp_path_factory.getbasetemp() / "audit-checkpoints"
    directory.mkdir(exist_ok=True)
    path = directory / f"checkpoint-{next(_audit_files)}.json"
    settings.EXPATSI_AUDIT_CHECKPOINT_FILE = path
    monkeypatch.setenv("EXPATSI_AUDIT_CHECKPOINT_FILE", str(path))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Counters in the cache (sign-in throttling, rate limits) never leak from one test to another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# Property tests: no per-example deadline (the machine is shared and noisy; speed is measured in
# `make bench`, never in unit tests), a bounded number of examples, and no example database
# written into the working tree. Derandomised, so a failure in CI fails again on a laptop.
settings.register_profile(
    "expatsi",
    deadline=None,
    max_examples=100,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("expatsi")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request to a /zh-hans/ page leaves Chinese
    active in the test's thread, which made later tests' ``reverse()`` give Chinese URLs."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_verification_memory():
    """What online checks keep in process memory (the revoked handles, the photos seen) describes
    one database: every test starts with none of it, like a new installation."""
    from expatsi.cards import revocations, verification

    revocations.reset()
    verification.forget_photos()
    yield
    revocations.reset()
    verification.forget_photos()
