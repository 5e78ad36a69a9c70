"""The OpenAPI document tells the truth about answers: error statuses and schemas (the fuzz test
in test_fuzz_api.py checks real answers against it; these pin the defect classes it found)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ninja import Schema

from expatsi.api import api
from tests.api.conftest import API, World

ERROR_REF = "#/components/schemas/ErrorOut"


def _document() -> dict[str, Any]:
    return api.get_openapi_schema()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _refs(schema: dict[str, Any]) -> list[str]:
    return [schema["$ref"]] if "$ref" in schema else [s["$ref"] for s in schema.get("anyOf", [])]


def _all_schema_classes(cls: type = Schema) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("expatsi."):
            found.append(sub)
        found.extend(_all_schema_classes(sub))
    return found


def test_no_two_api_schemas_share_a_name() -> None:
    """The document names each schema by its class name only: two classes of one name (LineOut of
    the rules API and of a bill) made one operation document the other's body."""
    _document()  # every router imported
    seen: dict[str, str] = {}
    clashes = []
    for cls in set(_all_schema_classes()):
        where = f"{cls.__module__}.{cls.__qualname__}"
        if cls.__name__ in seen and seen[cls.__name__] != where:
            clashes.append((cls.__name__, seen[cls.__name__], where))
        seen.setdefault(cls.__name__, where)
    assert not clashes


def test_every_operation_documents_its_error_answers() -> None:
    document = _document()
    assert {"ErrorOut", "ValidationErrorOut"} <= set(document["components"]["schemas"])
    for method, path, operation in _operations(document):
        responses = {int(code): r for code, r in operation["responses"].items()}
        secured = bool(operation.get("security"))
        takes_input = bool(operation.get("parameters")) or "requestBody" in operation
        expected = set()
        if secured:
            expected |= {400, 401, 403, 404}
        if takes_input:
            expected |= {400, 422}
        if "requestBody" in operation:
            expected.add(413)
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected - {422}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert ERROR_REF in _refs(schema), (method, path, status)
        if 422 in expected:
            schema = responses[422]["content"]["application/json"]["schema"]
            assert _refs(schema) == ["#/components/schemas/ValidationErrorOut"]


def test_public_operations_without_input_document_no_errors() -> None:
    responses = _document()["paths"][f"{API}/health"]["get"]["responses"]
    assert set(responses) == {200}


def test_the_rate_limited_verify_documents_429() -> None:
    responses = _document()["paths"][f"{API}/verify"]["post"]["responses"]
    assert 429 in responses


def test_a_validation_422_carries_an_errors_list(world: World) -> None:
    client = world.client("agency")
    response = client.get(f"{API}/employers?limit=x")
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"code", "message", "field", "errors"}
    assert body["errors"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("query", ["?offset=99999999999999999999999", ""])
def test_an_out_of_range_422_carries_an_errors_list_too(query: str) -> None:
    """The database's refusal (SQLite's OverflowError, PostgreSQL's DataError) is answered by the
    net under the schemas; its 422 has the same shape as a validation error's."""
    from django.test import RequestFactory

    from expatsi.api import out_of_range

    response = out_of_range(RequestFactory().get(f"{API}/employees{query}"), OverflowError())
    body = json.loads(response.content)
    assert response.status_code == 422
    assert set(body) == {"code", "message", "field", "errors"}
    assert body["errors"] == [
        {
            "type": "out_of_range",
            "loc": [body["field"]] if body["field"] else [],
            "msg": body["message"],
        }
    ]


def test_an_idempotency_key_reused_for_another_request_is_a_422_with_errors(world: World) -> None:
    """Found by the fuzzer: schemathesis sends the same short key ("today") with different
    bodies; the 422 lacked the ``errors`` list every 422 documents."""
    client = world.client("hr_a")
    path = f"{API}/employers/{world.a.pk}/api-tokens"
    key = {"Idempotency-Key": "today"}
    first = client.post(path, {"name": "payroll"}, content_type="application/json", headers=key)
    assert first.status_code == 201
    again = client.post(path, {"name": "billing"}, content_type="application/json", headers=key)
    assert again.status_code == 422
    body = again.json()
    assert body["code"] == "idempotency_key_reused"
    assert body["field"] == "Idempotency-Key"
    assert body["errors"] == [
        {
            "type": "idempotency_key_reused",
            "loc": ["header", "Idempotency-Key"],
            "msg": body["message"],
        }
    ]


def test_idempotent_operations_document_the_header() -> None:
    document = _document()
    operation = document["paths"][f"{API}/registrations/hire"]["post"]
    assert [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"] == [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": operation["parameters"][-1]["description"],
        }
    ]
    assert "x-idempotent" not in operation
    cards = document["paths"][f"{API}/cards"]["post"]  # card writes honour the key too
    assert any(p["name"] == "Idempotency-Key" for p in cards.get("parameters", []))
    verify = document["paths"][f"{API}/verify"]["post"]  # a check, not a write: no key
    assert not any(p["name"] == "Idempotency-Key" for p in verify.get("parameters", []))


def test_the_public_report_documents_400_and_429_without_credentials() -> None:
    operation = _document()["paths"][f"{API}/reports"]["post"]
    assert {201, 400, 429} <= {int(code) for code in operation["responses"]}
    assert not operation.get("security")
