import pytest
from django.test import Client


@pytest.fixture
def client():
    return Client()


def test_api_contributions_answers_with_explained_lines(client):
    r = client.get(
        "/api/v1/rules/contributions", {"region": "310000", "month": "2024-08", "wage": "50000"}
    )
    assert r.status_code == 200
    data = r.json()
    # Shanghai 2024-08, capped at 36,921: pension 5,907.36 / 2,953.68
    assert data["lines"][0]["employer"] == "5907.36"
    assert data["lines"][0]["base_reason"] == "capped_at_upper_limit"


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"region": "310000", "month": "2024-08", "wage": "abc"}, 400, "wage"),
        ({"region": "310000", "month": "2024-08", "wage": "-1"}, 400, "wage"),
        ({"region": "000001", "month": "2024-08", "wage": "1"}, 400, "region"),
        ({"region": "310000", "month": "1999-01", "wage": "1"}, 400, "month"),
        ({"region": "310000", "month": "2024-08"}, 422, "wage"),
    ],
)
def test_api_errors_are_4xx_with_a_field(client, params, status, field):
    r = client.get("/api/v1/rules/contributions", params)
    assert r.status_code == status
    body = r.json()
    assert body["field"] == field
    assert body["code"] and body["message"]


def test_openapi_document_is_served(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/rules/contributions" in r.json()["paths"]


@pytest.mark.django_db
def test_health_checks_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


@pytest.mark.django_db
def test_home_page_in_both_languages(client):
    en = client.get("/")
    assert en.status_code == 200
    assert "Regions on file" in en.content.decode()
    zh = client.get("/zh-hans/")
    assert zh.status_code == 200
    assert 'lang="zh-Hans"' in zh.content.decode()


@pytest.mark.django_db
def test_chinese_pages_show_chinese_text(client):
    zh = client.get("/zh-hans/").content.decode()
    assert "已收录地区" in zh
    assert "Regions on file" not in zh


@pytest.mark.django_db
def test_the_postgresql_leg_really_runs_on_postgresql():
    import os

    from django.db import connection

    expected = "postgresql" if os.environ.get("EXPATSI_REQUIRE_POSTGRES_TESTS") == "1" else "sqlite"
    assert connection.vendor == expected


def test_api_docs_load_nothing_from_another_host(client):
    import re

    html = client.get("/api/v1/docs").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, "the docs page should reference its assets"
    assert all(u.startswith("/") for u in urls), urls
