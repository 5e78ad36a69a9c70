"""``manage.py check --deploy``: a production installation without its data keys is found before the
first request that reads a passport fails."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def data_keys_present(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from expatsi.access import crypto

    try:
        crypto.keyring()
    except crypto.DataKeyError as exc:
        return [
            checks.Error(
                str(exc),
                hint="run `expatsi data keys init` and back up EXPATSI_KEY_DIR",
                id="expatsi.E001",
            )
        ]
    return []
