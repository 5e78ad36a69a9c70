"""Every API operation that creates something (a POST answering 201) honours ``Idempotency-Key``:
an HR system or a counter application that retries after a timeout must not create a second death
report, document, payout or proof of life."""

from __future__ import annotations

from expatsi.api import api


def test_every_post_that_creates_documents_the_idempotency_key() -> None:
    document = api.get_openapi_schema()
    missing = [
        path
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method == "post"
        and "201" in {str(code) for code in operation.get("responses", {})}
        # a public operation (no credentials: POST /reports) has no principal to keep a key
        # under; it is rate limited per address instead
        and operation.get("security")
        and not any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    ]
    assert missing == []
