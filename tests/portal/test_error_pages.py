"""403, 404 and 500: the portal's own pages in both languages (not Django's plain or debug ones),
and the API's ``{code, message, field}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings

from tests.portal.factories import make_employer, make_hr

pytestmark = pytest.mark.django_db


def _logged_in(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize(
    ("prefix", "heading", "lang"),
    [("", "Page not found", 'lang="en"'), ("/zh-hans", "页面不存在", 'lang="zh-Hans"')],
)
def test_404_is_the_portal_page_in_the_readers_language(
    prefix: str, heading: str, lang: str
) -> None:
    r = Client().get(f"{prefix}/no-such-page/")
    assert r.status_code == 404
    body = r.content.decode()
    assert heading in body
    assert lang in body
    assert "web/expatsi.css" in body  # the portal's layout, not Django's bare page


@pytest.mark.parametrize(
    ("prefix", "heading"),
    [("", "You may not see this page"), ("/zh-hans", "您无权查看此页面")],
)
def test_403_is_the_portal_page_in_the_readers_language(prefix: str, heading: str) -> None:
    hr = make_hr(make_employer(1))
    r = _logged_in(hr).get(f"{prefix}/audit/")
    assert r.status_code == 403
    body = r.content.decode()
    assert heading in body
    assert "web/expatsi.css" in body
    assert "403 Forbidden" not in body


def _refuse_queries(execute: Callable[..., Any], *args: Any) -> Any:
    raise AssertionError("the 500 page must not use the database")


@override_settings(ROOT_URLCONF="tests.portal.error_urls")
@pytest.mark.parametrize(
    ("path", "heading", "lang"),
    [
        ("/boom/", "Sorry, there is a problem with the service", 'lang="en"'),
        ("/zh-hans/boom/", "抱歉，服务出现了问题", 'lang="zh-Hans"'),
    ],
)
def test_500_is_the_portal_page_without_the_database(path: str, heading: str, lang: str) -> None:
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(_refuse_queries):
        r = client.get(path)
    assert r.status_code == 500
    body = r.content.decode()
    assert heading in body
    assert lang in body
    assert "web/expatsi.css" in body


@override_settings(ROOT_URLCONF="tests.portal.error_urls")
def test_api_errors_are_json() -> None:
    client = Client(raise_request_exception=False)
    missing = client.get("/api/v1/no-such-endpoint")
    assert missing.status_code == 404
    assert missing.json() == {"code": "not_found", "message": "no such resource", "field": ""}
    failed = client.get("/api/v1/boom/")
    assert failed.status_code == 500
    assert failed.json()["code"] == "server_error"
    assert set(failed.json()) == {"code", "message", "field"}
