"""Settings of the test suite and of mypy's Django plugin: expatsi's own, in development mode.

``EXPATSI_DEBUG`` defaults to off (production), which refuses the built-in development secret and
makes cookies HTTPS-only; the suite runs like ``make demo`` does, with ``EXPATSI_DEBUG=1``, unless
the environment says otherwise. Subprocesses started by tests inherit it. (pytest-django still runs
the tests themselves with ``DEBUG = False``.)
"""

import os

os.environ.setdefault("EXPATSI_DEBUG", "1")

from expatsi.settings import *  # noqa: F403

# A test sees its check's log row at once (tests/cards/test_verify_caching.py tests the batches).
EXPATSI_VERIFY_LOG_BUFFER = False
