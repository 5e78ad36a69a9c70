"""Fuzzing the REST API against its own OpenAPI document (schemathesis, in-process, no server).

Every operation of ``/api/v1/openapi.json`` is called with generated input as each role: an
employer's API token, agency staff, employer HR and a foreign employee (sessions with a CSRF token).
Each must answer without a 5xx, with a status its document lists and a body matching that status's
schema. Input comes three ways: schema-conforming (positive), schema-violating (negative), and a
known-good request with some fields replaced by generated values (so that ids, codes and dates
reach the services instead of stopping at the first validator).

Bounded and deterministic: ``EXAMPLES`` per operation, strategy and role, derandomized, no
example database written. ``EXPATSI_FUZZ_EXAMPLES`` raises the count for a deeper run by hand.
"""

from __future__ import annotations

import copy
import csv
import io
import os
import traceback
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

from expatsi.access.actors import SYSTEM, Actor
from expatsi.billing.models import Bill, BillingRun
from expatsi.billing.services import billing_run
from expatsi.billing.tasks import billing_job_start
from expatsi.cards import services as card_services
from expatsi.cards.models import Card
from expatsi.cases import services as case_services
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.wsgi import application
from tests.api.conftest import USCC_A, USCC_NEW_SH, World, hire_payload, today
from tests.cases.conftest import finding
from tests.twofactor import verified_login

EXAMPLES = int(os.environ.get("EXPATSI_FUZZ_EXAMPLES", "10"))
ROLES = ("token_a", "agency", "hr_a", "self")
CSRF = "fuzzcsrftoken" + "x" * 19  # any 32 characters do as an unmasked CSRF token

SCHEMA = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    application,
    # The caller's credentials are the role's; generated Authorization headers or session
    # cookies would only ever be a 401, which tests/api/test_role_matrix.py covers.
    config=schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}}),
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


def _later(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


# Cell values that have broken parsers elsewhere: empty, huge, not-a-number numbers, impossible
# dates, full-width digits, formulas, line breaks, a byte-order mark.
ODD_CELLS = st.sampled_from(
    [
        "",
        " ",
        "-1",
        "0",
        "9" * 25,
        "1e309",
        "NaN",
        "inf",
        "12.345",
        "-0.00",
        "9999-12-31",
        "0001-01-01",
        "2025-02-30",
        "2025-13",
        "２０２５-０１-０１",
        "１２３",
        "=1+1",
        "x" * 300,
        "a\r\nb",
        "\ufeff",
        "\u2028",
    ]
)


# Bodies no schema describes, sent raw to every operation that takes a body: deep nesting, JSON
# that is not an object, numbers JSON cannot hold, bytes that are not UTF-8, and content types
# the operation does not take (which the session's CSRF check reads as a form first).
HOSTILE_BODIES: list[tuple[str, bytes]] = [
    ("application/json", b"[" * 100_000),
    ("application/json", b'{"a":' * 50_000),
    ("application/json", b""),
    ("application/json", b"null"),
    ("application/json", b"[]"),
    ("application/json", b"NaN"),
    ("application/json", b'{"a": 1e999, "b": -Infinity}'),
    ("application/json", b"\xff\xfe{}"),
    ("application/json", b"\xef\xbb\xbf{}"),
    ("application/json; charset=bogus", b"{}"),
    (
        "multipart/form-data; boundary=xyz",
        b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--xyz--\r\n',
    ),
    ("multipart/form-data", b"--xyz--\r\n"),
    ("multipart/form-data; boundary=" + "x" * 300, b"--xyz--\r\n"),
    ("application/x-www-form-urlencoded", b"a=1&a=2&%ZZ=%00"),
    ("text/plain", b"hello"),
]


def _csv(header: list[str], good: list[str]) -> Any:
    """A CSV file of 1–3 rows: the good row with up to two cells swapped for odd or random ones,
    under the right header or a shuffled or short one."""
    odd = st.one_of(ODD_CELLS, st.text(max_size=20))

    def row(draw: st.DrawFn) -> list[str]:
        cells = list(good)
        for i in draw(st.lists(st.integers(0, len(good) - 1), max_size=2, unique=True)):
            cells[i] = draw(odd)
        return cells

    def render(parts: tuple[list[str], list[list[str]]]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(parts[0])
        writer.writerows(parts[1])
        return out.getvalue().encode("utf-8", "surrogatepass")

    headers = st.one_of(
        st.just(header), st.just(header), st.permutations(header), st.just(header[:-1])
    )
    rows = st.lists(st.composite(row)(), min_size=1, max_size=3)
    return st.tuples(headers, rows).map(render)


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (30, 40), (200, 180, 160)).save(out, "PNG")
    return out.getvalue()


def _image() -> Any:
    """A small PNG, whole, cut short, or with one byte changed."""
    png = _png()
    return st.one_of(
        st.just(png),
        st.integers(1, len(png) - 1).map(lambda n: png[:n]),
        st.tuples(st.integers(0, len(png) - 1), st.integers(1, 255)).map(
            lambda p: png[: p[0]] + bytes([png[p[0]] ^ p[1]]) + png[p[0] + 1 :]
        ),
    )


def _hire(world: World) -> Any:
    """A new hire each time (numbers from the draw, so the run is the same every time)."""

    def body(n: int) -> dict[str, Any]:
        payload = hire_payload(world.a.pk, permit_number=f"IC{n}", residence_permit_number=f"RP{n}")
        payload["person"].update(passport_number=f"21FR{n}", email=f"claire.{n}@example.org")
        return payload

    return st.integers(100_000, 999_999).map(body)


# A request that works for some role, per operation: (query, body). The fuzzer replaces some of
# its fields by generated values.
Seed = Callable[[World], tuple[dict[str, Any] | None, dict[str, Any] | None]]
SEEDS: dict[str, Seed] = {
    "GET /api/v1/rules/contributions": lambda w: (
        {"region": "110000", "month": "2025-08", "wage": "30000", "nationality": "DEU"},
        None,
    ),
    "GET /api/v1/employments": lambda w: ({"employer_id": w.a.pk, "person_id": w.pa.pk}, None),
    "GET /api/v1/registrations": lambda w: ({"employer_id": w.a.pk, "status": "submitted"}, None),
    "GET /api/v1/billing/declarations": lambda w: (
        {"employer_id": w.a.pk, "period": today().strftime("%Y-%m")},
        None,
    ),
    "GET /api/v1/billing/bills": lambda w: (
        {"employer_id": w.a.pk, "region_code": "110000", "month": today().strftime("%Y-%m")},
        None,
    ),
    "GET /api/v1/billing/collection": lambda w: (
        {"region_code": "110000", "month": today().strftime("%Y-%m")},
        None,
    ),
    "POST /api/v1/employers": lambda w: (
        None,
        {"name": "Acme Shanghai Ltd.", "uscc": USCC_NEW_SH, "region_code": "310000"},
    ),
    "POST /api/v1/employers/{employer_id}/hr-users": lambda w: (
        None,
        {"email": "new-hr@example.org", "first_name": "New", "last_name": "HR"},
    ),
    "POST /api/v1/employers/{employer_id}/work-injury-ratings": lambda w: (
        None,
        {"industry_class": "II", "grade": "120%", "effective_from": "2026-01-01"},
    ),
    "POST /api/v1/employers/{employer_id}/api-tokens": lambda w: (None, {"name": "payroll"}),
    "POST /api/v1/employees": lambda w: (None, _hire(w)),
    "POST /api/v1/registrations/hire": lambda w: (None, _hire(w)),
    "POST /api/v1/employees/{person_id}/documents": lambda w: (
        None,
        {
            "kind": "residence_permit",
            "number": "RP998877",
            "issued_on": today().isoformat(),
            "valid_to": _later(365),
        },
    ),
    "POST /api/v1/employees/{person_id}/passports": lambda w: (
        None,
        {"country": "DEU", "number": "C4J8LM2N1", "issued_on": today().isoformat()},
    ),
    "POST /api/v1/employees/{person_id}/certificates": lambda w: (
        None,
        {
            "number": "DE-2026-000123",
            "country": "DEU",
            "valid_from": today().isoformat(),
            "valid_to": _later(700),
        },
    ),
    "POST /api/v1/employments": lambda w: (
        None,
        {
            "person_id": w.pa.pk,
            "employer_id": w.a.pk,
            "start_date": _later(3 * 365 + 1),
            "position": "Senior engineer",
            "contract_wage": "40000",
        },
    ),
    "POST /api/v1/employments/{employment_id}/change": lambda w: (
        None,
        {"on": _later(30), "contract_wage": "35000.00"},
    ),
    "POST /api/v1/employments/{employment_id}/end": lambda w: (None, {"end_date": _later(60)}),
    "POST /api/v1/registrations": lambda w: (None, {"employment_id": w.ea2.pk}),
    "POST /api/v1/registrations/{registration_id}/reject": lambda w: (
        None,
        {"reason": "the work permit number does not match the permit authority's record"},
    ),
    "POST /api/v1/cards": lambda w: (
        None,
        {
            "employer_id": w.a.pk,
            "person_id": w.pa2.pk,
            "category": "B",
            "position": "Analyst",
            "valid_to": _later(365),
        },
    ),
    "POST /api/v1/cards/applications/{application_id}/decision": lambda w: (
        None,
        {"approve": True, "reason": ""},
    ),
    "POST /api/v1/cards/{card_id}/entry": lambda w: (None, {"entry_date": today().isoformat()}),
    "POST /api/v1/cards/{card_id}/extension": lambda w: (None, {"new_valid_to": _later(700)}),
    "POST /api/v1/cards/{card_id}/change": lambda w: (
        None,
        {"changes": {"position": "Lead engineer"}, "change_date": today().isoformat()},
    ),
    "POST /api/v1/cards/{card_id}/deregistration": lambda w: (
        None,
        {"reason": "contract ended", "end_date": _later(10)},
    ),
    "POST /api/v1/billing/declarations": lambda w: (
        None,
        {
            "employer_id": w.a.pk,
            "person_id": w.pa.pk,
            "period_start": today().strftime("%Y-%m"),
            "wage": "30000",
        },
    ),
    "POST /api/v1/billing/payments": lambda w: (
        None,
        {
            "employer_id": w.a.pk,
            "amount": "1000.00",
            "received_on": today().isoformat(),
            "reference": "bank transfer",
        },
    ),
    "POST /api/v1/entry-exit/imports": lambda w: (
        None,
        {
            "file": _csv(
                ["passport_country", "passport_number", "date", "direction", "port"],
                ["JPN", "TK1234567", today().isoformat(), "entry", "Pudong"],
            )
        },
    ),
    "POST /api/v1/billing/declarations/import": lambda w: (
        None,
        {
            "employer_id": w.a.pk,
            "dry_run": st.booleans(),
            "file": _csv(
                ["passport_country", "passport_number", "period_start", "wage"],
                ["DEU", "C01X00T47", today().strftime("%Y-%m"), "28500.00"],
            ),
        },
    ),
    "POST /api/v1/billing/bank-statements": lambda w: (
        None,
        {
            "dry_run": st.booleans(),
            "file": _csv(
                ["transaction_id", "date", "amount", "payer_uscc", "reference"],
                ["T1", today().isoformat(), "3000.00", USCC_A, "August"],
            ),
        },
    ),
    "POST /api/v1/cards/{card_id}/photo": lambda w: (None, {"photo": _image()}),
    "POST /api/v1/billing/runs": lambda w: (
        None,
        {"region_code": "110000", "month": today().strftime("%Y-%m")},
    ),
    "POST /api/v1/cases/scans": lambda w: (None, {"region_code": "110000"}),
    "POST /api/v1/cases/findings/{finding_id}/dismiss": lambda w: (None, {"reason": "paid"}),
    "POST /api/v1/cases/opt-outs": lambda w: (
        None,
        {
            "legacy": "shanghai_notice_38_2009",
            "person_id": w.pb.pk,
            "employer_id": w.b.pk,
            "signed_on": "2019-01-01",
        },
    ),
    "POST /api/v1/cases/{case_id}/order": lambda w: (None, {"deadline": _later(30)}),
    "POST /api/v1/cases/{case_id}/fine-proposals": lambda w: (
        None,
        {"kind": "arrears_not_paid", "amount": "100.00", "reason": "unpaid"},
    ),
    "POST /api/v1/cases/{case_id}/decision": lambda w: (
        None,
        {"outcome": "no_fine", "reason": "first offence"},
    ),
    "POST /api/v1/cases/{case_id}/close": lambda w: (None, {"reason": "settled"}),
}


def _credentials(world: World, role: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies a client of this role sends."""
    if role == "token_a":
        return {"Authorization": f"Bearer {world.token_a_secret}"}, {}
    client = Client()
    verified_login(client, world.users[role])  # agency staff: the second step done too
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    cookies = {django_settings.SESSION_COOKIE_NAME: session, django_settings.CSRF_COOKIE_NAME: CSRF}
    return {"X-CSRFToken": CSRF}, cookies


def _ids(world: World) -> dict[str, list[Any]]:
    """Ids of existing objects, so that generated requests also reach them (not only 404s)."""
    # One card per person (issue #10): pa's card is the one the hire named; the application is
    # for pa2, who holds none.
    card = Card.objects.get(person=world.pa)
    pending = card_services.card_apply(
        actor=SYSTEM,
        employer=world.a,
        person=world.pa2,
        category="B",
        position="Engineer",
        valid_to=today() + timedelta(days=300),
    )
    month = Month(today().year, today().month)
    try:  # this month's bills, while the policy tables reach this month
        billing_run(actor=SYSTEM, region_code="110000", month=month)
        agency = Actor("agency", None, "fuzz", regions=None)
        jobs = [billing_job_start(actor=agency, kind="run", region_code="310000", month=month)]
    except RuleError:
        jobs = []
    findings = [
        finding("unpaid_past_due", world.a, amount=10_000),
        finding("not_registered", world.a, world.pa, amount=50_000),
        finding("illegal_employment", world.b, world.pb, amount=1_000_000),
    ]
    ordered = case_services.case_open(actor=SYSTEM, finding_ids=[findings[0].pk])
    case_services.order_issue(
        actor=SYSTEM, case_id=ordered.pk, deadline=today() + timedelta(days=9)
    )
    opened = case_services.case_open(actor=SYSTEM, finding_ids=[findings[2].pk])
    return {
        "finding_id": [f.pk for f in findings],
        "case_id": [ordered.pk, opened.pk],
        "bill_id": list(Bill.objects.values_list("pk", flat=True)),
        "run_id": list(BillingRun.objects.values_list("pk", flat=True)),
        "key": jobs,
        "employer_id": [world.a.pk, world.b.pk],
        "person_id": [world.pa.pk, world.pa2.pk, world.pb.pk],
        "employment_id": [world.ea.pk, world.ea2.pk, world.eb.pk],
        "registration_id": [world.ra.pk, world.rb.pk],
        "token_id": [world.spare_token_a.pk],
        "card_id": [card.pk],
        "application_id": [pending.pk],
    }


@pytest.fixture(scope="module", autouse=True)
def _hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis keeps caches (constants, Unicode tables) in ``.hypothesis/``: not in the tree."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture
def in_process() -> Iterator[list[str]]:
    """Django's WSGI handler, called in-process inside the test's transaction.

    The handler closes "old" connections at the start and end of each request, which inside a
    test transaction would close the test's own; Django's test client disconnects the same
    signal for the same reason. Tracebacks of unhandled exceptions are collected for the report.
    """
    tracebacks: list[str] = []

    def record(sender: Any, **kwargs: Any) -> None:
        tracebacks.append(traceback.format_exc())

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(record)
    yield tracebacks
    got_request_exception.disconnect(record)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _leaves(value: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if not isinstance(value, dict) or not value:
        return {prefix: value}
    found: dict[tuple[str, ...], Any] = {}
    for key, item in value.items():
        found.update(_leaves(item, (*prefix, str(key))))
    return found


def _mix(draw: st.DrawFn, seed: dict[str, Any], fuzzed: dict[str, Any]) -> dict[str, Any]:
    """The seed with up to two of its fields (at any depth) replaced by generated values, added
    or left out: near enough to valid to reach the services, odd enough to test them."""
    generated = _leaves(fuzzed)
    paths = sorted({*_leaves(seed), *(p for p in generated if p)})
    if not paths:
        return seed
    mixed = copy.deepcopy(seed)
    for path in draw(st.lists(st.sampled_from(paths), max_size=2, unique=True)):
        parent = mixed
        for key in path[:-1]:
            child = parent.get(key)
            parent[key] = child = child if isinstance(child, dict) else {}
            parent = child
        if path in generated:
            parent[path[-1]] = generated[path]
        else:
            parent.pop(path[-1], None)
    return mixed


def _strategies(op: Any, world: World, ids: dict[str, list[Any]]) -> dict[str, Any]:
    """Positive and negative cases, and (with known ids or a seed) known-good cases mutated."""
    strategies = {
        "positive": op.as_strategy(GenerationMode.POSITIVE),
        "negative": op.as_strategy(GenerationMode.NEGATIVE),
    }
    names = [p.name for p in op.path_parameters]
    known = all(ids.get(name) for name in names)
    seed = SEEDS.get(op.label)
    if not (names and known) and seed is None:
        return strategies
    query, body = seed(world) if seed else (None, None)
    path_choices = st.fixed_dictionaries({n: st.sampled_from(ids[n]) for n in names if known})
    cache: dict[tuple[tuple[str, Any], ...], Any] = {}

    @st.composite
    def seeded(draw: st.DrawFn) -> Any:
        path = draw(path_choices)
        key = tuple(sorted(path.items()))
        if key not in cache:
            cache[key] = op.as_strategy(GenerationMode.POSITIVE, path_parameters=path or None)
        case = draw(cache[key])
        if query is not None:
            case.query = _mix(draw, query, case.query or {})
        if body is not None:
            good = draw(body) if isinstance(body, st.SearchStrategy) else body
            good = {k: draw(v) if isinstance(v, st.SearchStrategy) else v for k, v in good.items()}
            case.body = _mix(draw, good, case.body if isinstance(case.body, dict) else {})
        return case

    return {**strategies, "seeded": seeded()}


def _fuzz(
    kind: str,
    strategy: Any,
    role: str,
    world: World,
    tracebacks: list[str],
    failures: dict[Any, str],
) -> None:
    """Run ``EXAMPLES`` cases as ``role``; record the first failure of each kind and status.

    Schema-violating input cannot be made for every operation (no parameters, or only a string
    in the path): hypothesis then finds nothing to run, which is no failure."""
    headers, cookies = _credentials(world, role)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        tracebacks.clear()
        response = case.call(headers=headers, cookies=cookies)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, Failure) as exc:
            for failure in getattr(exc, "exceptions", [exc]):
                key = (role, kind, failure.title, response.status_code)
                failures.setdefault(key, f"{exc}\n{''.join(tracebacks)}")

    try:
        run()
    except Unsatisfiable:
        if kind != "negative":
            raise


def _hostile(
    op: Any,
    world: World,
    ids: dict[str, list[Any]],
    tracebacks: list[str],
    failures: dict[Any, str],
) -> None:
    """Send each of HOSTILE_BODIES as each role (to the first known object, if any)."""
    path = {p.name: (ids.get(p.name) or [1])[0] for p in op.path_parameters}
    for role in ROLES:
        headers, cookies = _credentials(world, role)
        for content_type, body in HOSTILE_BODIES:
            case = op.Case(path_parameters=path)
            sent = {**headers, "Content-Type": content_type}
            tracebacks.clear()
            response = case.call(headers=sent, cookies=cookies, data=body)
            try:
                case.validate_response(response, checks=CHECKS, headers=sent)
            except (FailureGroup, Failure) as exc:
                for failure in getattr(exc, "exceptions", [exc]):
                    key = (
                        role,
                        f"hostile {content_type[:40]}",
                        failure.title,
                        response.status_code,
                    )
                    failures.setdefault(key, f"{exc}\n{''.join(tracebacks)}")


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_api_operation_survives_fuzzing(world: World, in_process: list[str], op: Any) -> None:
    failures: dict[tuple[str, str, str, int], str] = {}
    ids = _ids(world)
    for kind, strategy in _strategies(op, world, ids).items():
        for role in ROLES:
            _fuzz(kind, strategy, role, world, in_process, failures)
    if op.body:
        _hostile(op, world, ids, in_process, failures)
    assert not failures, "\n\n".join(
        f"as {role}, {kind} input: {title} ({status})\n{message}"
        for (role, kind, title, status), message in failures.items()
    )
