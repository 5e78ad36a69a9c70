"""Suite-wide safety: no test writes signing keys or state into the working tree."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_key_dir(tmp_path_factory: pytest.TempPathFactory):
    previous = os.environ.get("EXPATSI_KEY_DIR")
    os.environ["EXPATSI_KEY_DIR"] = str(tmp_path_factory.mktemp("keys"))
    from expatsi.cards import keys

    keys.reset_caches()
    keys.keys_init()  # like `expatsi card keys init` on a real installation
    yield
    if previous is None:
        os.environ.pop("EXPATSI_KEY_DIR", None)
    else:
        os.environ["EXPATSI_KEY_DIR"] = previous


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Counters in the cache (sign-in throttling, rate limits) never leak from one test to another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
