"""Requests the API fuzzing (test_fuzz_api.py) found answered with a 500 or off the OpenAPI
document, each pinned by one plain request: a 4xx in the documented ``{code, message, field}``
JSON shape, never a 500 or Django's HTML error page."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.api.conftest import API, World
from tests.twofactor import verified_login

CSRF = "0123456789abcdefghijklmnopqrstuv"


def _session(world: World, role: str) -> Client:
    """A browser-like session client: CSRF enforced, token cookie and header sent."""
    client = Client(enforce_csrf_checks=True, headers={"X-CSRFToken": CSRF})
    verified_login(client, world.users[role])  # agency staff: the second step done too
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF
    client.raise_request_exception = False
    return client


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert {"code", "message", "field"} <= set(body)
    return body


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"text":' * 50_000])
def test_deeply_nested_json_to_the_public_verify_is_a_400(world: World, body: bytes) -> None:
    """json.loads raises RecursionError, not ValueError, on deep nesting: it was a 500."""
    client = Client()
    client.raise_request_exception = False
    response = client.post(f"{API}/verify", body, content_type="application/json")
    assert assert_error_shape(response, 400)["code"] == "invalid_json"


@pytest.mark.parametrize(
    "path", ["/employers", "/registrations/hire", "/billing/runs", "/employers/{a}/api-tokens"]
)
def test_a_multipart_body_to_a_json_operation_in_a_session_is_a_400(
    world: World, path: str
) -> None:
    """The session's CSRF check reads the form (the multipart stream) before ninja reads the
    JSON body, which Django then refuses to give: it was a 500."""
    client = _session(world, "agency")
    response = client.post(
        API + path.format(a=world.a.pk),
        b'--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nAcme\r\n--xyz--\r\n',
        content_type="multipart/form-data; boundary=xyz",
    )
    body = assert_error_shape(response, 400)
    assert (body["code"], body["field"]) == ("invalid_content_type", "Content-Type")


@pytest.mark.parametrize("role", ["agency", "token_a"])
@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=" + "x" * 300,
        "multipart/form-data",
        "multipart/form-data; boundary=",
    ],
)
def test_an_unreadable_multipart_body_is_a_400_in_the_error_shape(
    world: World, role: str, content_type: str
) -> None:
    """Django answered its own HTML 400 page, which no client of this API can read."""
    client = _session(world, role) if role != "token_a" else world.client(role)
    client.raise_request_exception = False
    for path in ("/entry-exit/imports", "/billing/bank-statements", "/employers"):
        response = client.post(API + path, b"--xyz--\r\n", content_type=content_type)
        body = assert_error_shape(response, 400)
        assert body["field"] == "body"
