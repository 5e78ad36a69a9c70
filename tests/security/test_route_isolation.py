"""Tenant isolation for every URL, generated from the URL configuration.

Every route that :func:`django.urls.get_resolver` knows — the portal pages in each language of
``i18n_patterns`` and every django-ninja operation under ``/api/v1/`` with its HTTP methods — is
tried by every attacking role against a victim tenant (see ``ATTACKS``). Each path parameter is
filled with the id of the VICTIM's object of the matching kind (``OBJECT_PARAMS`` and
``PK_BY_PREFIX``); a route with a parameter this file does not know fails, telling you where to add
it. A new endpoint is covered the moment it is routed: nobody has to remember to add a test.

For each route, role and method the probes are: a GET (on a route without an object, also one with
query parameters naming the victim: ``?employer=…``, ``?employer_id=…``, ``?q=<passport>``), and a
write with an empty body and with a plausible body (built from the OpenAPI schema for the API, one
superset form for the portal) whose ids, bill number, region and uploaded file name the victim — so
that the authorization check is reached before validation wherever it can be. A page's copy under
another language prefix gets the plain GET and the victim's form. Every probe runs in a savepoint
that is rolled back; the world is built once per module (conftest.py).

What must hold:

* never a 5xx;
* none of the victim's marker strings (tests/security/conftest.py) appears in the body or headers,
  whether HTML, JSON, CSV, XLSX or PDF, and no image is served for the victim's object;
* a route naming the victim's object answers 401/403/404/405 to a read and 400/401/403/404/405/
  409/422 to a write (or sends the anonymous caller to the login page);
* a write changes none of the victim's rows (a snapshot before and after) and no audit event about
  the victim is recorded by any probe (a refused read is not audited; an allowed one would be).

Agency staff of every region are in no tenant's way: they run through the routes without
parameters too, where only "never a 5xx" is checked.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import HttpResponseBase
from django.shortcuts import resolve_url
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern, RoutePattern
from django_tasks_db.models import DBTaskResult

from expatsi.access.models import AgencyStaff
from expatsi.api import api
from expatsi.audit.models import AuditEvent
from expatsi.benefits.models import (
    BankAccount,
    DeathDocument,
    DeathReport,
    DepartureCase,
    Heir,
    InheritanceClaim,
    PaymentRun,
    Payout,
    Pension,
    ProgrammeApplication,
    ProofOfLife,
    TerminationApplication,
)
from expatsi.billing.models import Allocation, BaseDeclaration, Bill, BillingRun, BillLine, Payment
from expatsi.cards.models import ApplicationDocument, Card, CardApplication, CardToken
from expatsi.cases.models import (
    Case,
    CaseEvent,
    Complaint,
    ComplaintEvent,
    Dispute,
    DisputeCorrection,
    DisputeDocument,
    DisputeEvent,
    Finding,
    FineProposal,
    OptOut,
)
from expatsi.employers.models import ApiToken, Employer, HrMembership, WorkInjuryRating
from expatsi.insurance import imports as hire_imports
from expatsi.insurance.models import CoverageCertificate, Employment, Registration
from expatsi.notify.models import Notification
from expatsi.people.models import Document, EntryExit, Passport, Person
from tests.api.conftest import USCC_NEW_BJ, USCC_NEW_SH
from tests.security.conftest import (
    BILL_MONTH,
    PDFTOTEXT,
    IsoWorld,
    Tenant,
    jpeg,
    leaks,
    response_bytes,
    searchable_text,
    today,
)

# --- what the routes are --------------------------------------------------------------------------

LANGUAGE_PREFIXES = {"en": "", "zh-hans": "zh-hans/"}  # i18n_patterns, default without a prefix
PORTAL_METHODS = ("GET", "POST")  # Django function views: a method they refuse answers 405

# Routes left out, with the reason. Prefixes (a whole include) end in "/"; the rest are exact.
SKIPPED_PREFIXES = {
    "admin/": "Django admin: superusers only (agency-admin), guarded by Django's own staff and "
    "permission checks, which Django's test suite covers",
}
SKIPPED_ROUTES = {
    "api/v1/": "ninja's API root: a static pointer to the documentation",
    "api/v1/openapi.json": "the OpenAPI schema: static and public, no tenant data",
    "api/v1/docs": "the Swagger page: static and public, no tenant data",
    "favicon.ico": "the site icon: a static image, no tenant data",
}

# Path parameter → the kind of object whose VICTIM id fills it. To route a new parameter, add it
# here (or, for a new ``pk``, its path prefix to PK_BY_PREFIX) and give the world such an object
# (tests/security/conftest.py, ``Tenant``).
OBJECT_PARAMS = {
    "employer_id": "employer",
    "person_id": "person",
    "employment_id": "employment",
    "registration_id": "registration",
    "card_id": "card",
    "application_id": "application",
    "app_pk": "application",
    "bill_id": "bill",
    "run_id": "run",
    "token_id": "token",
    "key": "job",  # a billing job's key
    "departure_id": "departure",
    "termination_id": "termination",
    "payment_run_id": "payment_run",
    "programme_application_id": "programme_application",
    "finding_id": "finding",
    "scan_id": "scan",
    "case_id": "case",
    "pension_id": "pension",
    "proof_id": "proof",
    "death_id": "death",
    "claim_id": "claim",
    "death_document_id": "death_document",
    "document_id": "application_document",
    "doc_pk": "application_document",
    "membership_pk": "membership",  # an HR user's access to an employer
    "dispute_id": "dispute",
    "dispute_document_id": "dispute_document",
    "complaint_id": "complaint",
}
# ``pk`` names a different object under each path prefix (the path without its language prefix).
PK_BY_PREFIX = {
    "people/": "person",
    "registrations/": "registration",
    "billing/bills/": "bill",
    "billing/people/": "person",
    "cards/": "card",
    "inbox/": "notification",
    "administration/employers/": "employer",
    "administration/staff/": "staff",  # agency staff: no tenant's, every attacker is refused
}
# Parameters that name no object but one of a few values: every value is tried.
VALUE_PARAMS = {
    "fmt": ("csv", "xlsx", "pdf"),
    "language": ("en", "zh-hans"),
    "kind": ("extension", "change", "deregistration"),
    # An HR invitation's token is the capability itself (only its digest is stored): an attacker
    # can only guess one, which must open nothing and show nothing.
    "token": ("guessed-0123456789abcdef0123456789abcdef",),
    # The public card check's photo reference is signed by the server after a valid code was
    # checked (cards.verification.photo_reference): a guessed one must show nothing.
    "reference": ("guessed:0123456789abcdef0123456789abcdef",),
}

PARAM_RE = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    surface: str  # "api" or "portal"
    path: str  # as routed, with the language prefix: "zh-hans/cards/<int:pk>/"
    bare: str  # without it: "cards/<int:pk>/"
    methods: tuple[str, ...]

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(m["name"] for m in PARAM_RE.finditer(self.path))

    @property
    def openapi_path(self) -> str:
        return "/" + PARAM_RE.sub(lambda m: "{" + m["name"] + "}", self.path)

    def kind_of(self, param: str) -> str:
        """``object:<kind>`` or ``value``; an unknown parameter fails the test with a hint."""
        if param == "pk":
            for prefix, kind in sorted(PK_BY_PREFIX.items(), key=lambda kv: -len(kv[0])):
                if self.bare.startswith(prefix):
                    return f"object:{kind}"
        elif param in OBJECT_PARAMS:
            return f"object:{OBJECT_PARAMS[param]}"
        elif param in VALUE_PARAMS:
            return "value"
        raise LookupError(
            f"/{self.path}: path parameter {param!r} is unknown to the isolation test. Add it to "
            "OBJECT_PARAMS (or its path prefix to PK_BY_PREFIX for a `pk`) or VALUE_PARAMS in "
            "tests/security/test_route_isolation.py, and give each tenant such an object in "
            "tests/security/conftest.py."
        )

    @property
    def names_an_object(self) -> bool:
        kinds = []
        for p in self.params:
            try:
                kinds.append(self.kind_of(p))
            except LookupError:
                return True  # fails in the test, with the message
        return any(k.startswith("object:") for k in kinds)


def _api_methods() -> dict[str, tuple[str, ...]]:
    """OpenAPI path → its operations' HTTP methods (ninja routes them all through one URL)."""
    schema = api.get_openapi_schema()
    return {path: tuple(sorted(m.upper() for m in ops)) for path, ops in schema["paths"].items()}


def _walk(
    patterns: list[Any], shown: str, bare: str
) -> Iterator[tuple[str, str, URLPattern | None, str]]:
    """(path, bare path, pattern, reason skipped or "") for every leaf of the URL configuration."""
    for p in patterns:
        if isinstance(p, URLResolver):
            if isinstance(p.pattern, LocalePrefixPattern):
                for prefix in LANGUAGE_PREFIXES.values():
                    yield from _walk(p.url_patterns, shown + prefix, bare)
                continue
            if not isinstance(p.pattern, RoutePattern):
                yield shown + str(p.pattern), bare + str(p.pattern), None, ""
                continue
            part = str(p.pattern)
            if bare + part in SKIPPED_PREFIXES:
                yield shown + part, bare + part, None, SKIPPED_PREFIXES[bare + part]
                continue
            yield from _walk(p.url_patterns, shown + part, bare + part)
        else:
            part = str(p.pattern)
            yield shown + part, bare + part, p, SKIPPED_ROUTES.get(bare + part, "")


def discover() -> tuple[list[Route], dict[str, str], list[str]]:
    """The routes to test, those skipped (path → reason) and problems (a route neither testable
    nor skipped: a regex pattern, an API route missing from the OpenAPI schema)."""
    api_methods = _api_methods()
    routes: dict[str, Route] = {}
    skipped: dict[str, str] = {}
    problems: list[str] = []
    for path, bare, pattern, reason in _walk(get_resolver().url_patterns, "", ""):
        if reason:
            skipped["/" + path] = reason
            continue
        if pattern is None or not isinstance(pattern.pattern, RoutePattern):
            problems.append(f"/{path}: not a path() route; test it by hand and skip it here")
            continue
        if bare.startswith("api/"):
            route = Route("api", path, bare, ())
            methods = api_methods.get(route.openapi_path)
            if methods is None:
                problems.append(f"/{path}: an API route missing from the OpenAPI schema")
                continue
            routes[path] = Route("api", path, bare, methods)
        else:
            routes[path] = Route("portal", path, bare, PORTAL_METHODS)
    return list(routes.values()), skipped, problems


ROUTES, SKIPPED, PROBLEMS = discover()

# Attacker → the tenant it must not reach. Agency staff of every region reach both (``None``:
# only "never a 5xx" is checked, on the routes without an object).
ATTACKS: tuple[tuple[str, str | None], ...] = (
    ("hr_a", "B"),
    ("token_a", "B"),
    ("self", "B"),
    ("anon", "B"),
    ("hr_b", "A"),
    ("other", "A"),
    ("agency_sh", "A"),
    ("anon", "A"),
)
AGENCY: tuple[str, str | None] = ("agency", None)


def _cases() -> Iterator[Any]:
    for route in ROUTES:
        attacks = ATTACKS if route.names_an_object else (*ATTACKS, AGENCY)
        for role, victim in attacks:
            label = f"{role}->{victim}" if victim else role
            test_id = f"{','.join(route.methods)} /{route.path} [{label}]"
            yield pytest.param(route, role, victim, id=test_id)


# --- the requests ---------------------------------------------------------------------------------


def object_id(t: Tenant, kind: str) -> str:
    ids: dict[str, Callable[[], Any]] = {
        "employer": lambda: t.employer.pk,
        "person": lambda: t.person.pk,
        "employment": lambda: t.employment.pk,
        "registration": lambda: t.registration.pk,
        "card": lambda: t.card.pk,
        "application": lambda: t.application.pk,
        "bill": lambda: t.bill.pk,
        "run": lambda: t.run.pk,
        "token": lambda: t.token.pk,
        "job": lambda: t.job_key,
        "notification": lambda: t.notification.pk,
        "departure": lambda: t.departure.pk,
        "termination": lambda: t.termination.pk,
        "payment_run": lambda: t.payment_run.pk,
        "finding": lambda: t.finding.pk,
        "scan": lambda: t.scan.pk,
        "case": lambda: t.case.pk,
        "pension": lambda: t.pension.pk if t.pension else 0,
        "proof": lambda: t.proof.pk if t.proof else 0,
        "death": lambda: t.death.pk,
        "claim": lambda: t.claim.pk,
        "death_document": lambda: t.death_document.pk,
        "application_document": lambda: t.application_document.pk,  # type: ignore[union-attr]
        "membership": lambda: HrMembership.objects.get(user=t.hr_user, employer=t.employer).pk,
        "staff": lambda: AgencyStaff.objects.order_by("pk").values_list("pk", flat=True)[0],
        "dispute": lambda: t.dispute.pk,
        "dispute_document": lambda: t.dispute_document.pk,
        "complaint": lambda: t.complaint.pk,
        "programme_application": lambda: t.programme_application.pk,  # type: ignore[union-attr]
    }
    return str(ids[kind]())


def filled_paths(route: Route, t: Tenant) -> list[str]:
    """The route with each object parameter naming the victim's object, once per combination of
    the values of its value parameters."""
    values = {
        p: VALUE_PARAMS[p]
        if route.kind_of(p) == "value"
        else (object_id(t, route.kind_of(p).removeprefix("object:")),)
        for p in route.params
    }
    paths = []
    for combo in itertools.product(*values.values()):
        chosen = dict(zip(values, combo, strict=True))
        paths.append("/" + PARAM_RE.sub(lambda m, c=chosen: str(c[m["name"]]), route.path))
    return paths


def _country(t: Tenant) -> str:
    return t.person.nationality


# Body and query fields that name the victim, whatever the operation.
VICTIM_FIELDS: dict[str, Callable[[Tenant], Any]] = {
    "employer_id": lambda t: t.employer.pk,
    "employer": lambda t: t.employer.pk,
    "person_id": lambda t: t.person.pk,
    "person": lambda t: t.person.pk,
    "employment_id": lambda t: t.employment.pk,
    "registration_id": lambda t: t.registration.pk,
    "permit_id": lambda t: t.document.pk,
    "card_id": lambda t: t.card.pk,
    "application_id": lambda t: t.application.pk,
    "bill_number": lambda t: t.bill.number,
    "region_code": lambda t: t.region,
    "region": lambda t: t.region,
    "uscc": lambda t: USCC_NEW_BJ if t.region == "110000" else USCC_NEW_SH,
    "q": lambda t: t.passport,
    "finding_ids": lambda t: [t.finding.pk],
}
_serial = itertools.count(1)
# Plausible values for the other fields, so that a request gets past validation to authorization.
SAMPLES: dict[str, Callable[[], Any]] = {
    "amount": lambda: "100.00",
    "wage": lambda: "30000.00",
    "contract_wage": lambda: "30000.00",
    "grade": lambda: "100%",
    "industry_class": lambda: "I",
    "category": lambda: "B",
    "position": lambda: "Intruder",
    "reason": lambda: "isolation test",
    "approve": lambda: True,
    "decision": lambda: "approve",
    "username": lambda: f"intruder-{next(_serial)}",
    "email": lambda: "intruder@example.org",
    "name": lambda: "Intruder",
    "country": lambda: "DEU",
    "nationality": lambda: "FRA",
    "passport_number": lambda: f"ZZ{next(_serial):07d}",
    "permit_number": lambda: f"ICZZ{next(_serial):05d}",
    "number": lambda: f"ZZN{next(_serial):06d}",
    "family_name": lambda: "Intruder",
    "given_names": lambda: "Ivan",
    "sex": lambda: "male",
    "birth_date": lambda: "1990-01-01",
    "permit_kind": lambda: "integrated_card",
    "kind": lambda: "run",
    "month": lambda: str(BILL_MONTH),
    "period": lambda: str(BILL_MONTH),
    "period_start": lambda: str(BILL_MONTH),
    "changes": lambda: {"position": "Intruder"},
    "text": lambda: "EXP1:0",
    "dry_run": lambda: False,
    "new_valid_to": lambda: (today() + timedelta(days=800)).isoformat(),
    "valid_to": lambda: (today() + timedelta(days=400)).isoformat(),
    "deadline": lambda: (today() + timedelta(days=30)).isoformat(),
    "outcome": lambda: "no_fine",
    "legacy": lambda: "shanghai_notice_38_2009",
    "signed_on": lambda: "2019-01-01",
}


# In the "own employer" variant these name the attacker's own tenant (the container it may write
# in) while every other field still names the victim: a victim's person hired into, declared at,
# or given a card by the attacker's employer; a victim's user made HR of it.
OWN_FIELDS = ("employer_id", "employer", "region_code", "region", "uscc")
CROSSING_FIELDS: dict[str, Callable[[Tenant], Any]] = {
    "username": lambda t: t.hr_user.get_username(),
    "passport_number": lambda t: t.passport,
    "nationality": _country,
}
OWN_TENANT = {"hr_a": "A", "token_a": "A", "self": "A", "hr_b": "B", "other": "B", "agency_sh": "B"}


def sample(
    schema: dict[str, Any],
    name: str,
    t: Tenant,
    components: dict[str, Any],
    own: Tenant | None = None,
) -> Any:
    """A value for a field of ``schema``: the victim's where the field names an object, else a
    plausible one; an object gets its required fields and any that name the victim. With ``own``,
    the employer and region are the attacker's own (see OWN_FIELDS)."""
    if own is not None and name in OWN_FIELDS:
        return VICTIM_FIELDS[name](own)
    if own is not None and name in CROSSING_FIELDS:
        return CROSSING_FIELDS[name](t)
    if "$ref" in schema:
        ref = components[schema["$ref"].rsplit("/", 1)[-1]]
        return sample(ref, name, t, components, own)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return sample(options[0], name, t, components, own) if options else None
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required", ()))
        return {
            key: sample(sub, key, t, components, own)
            for key, sub in schema["properties"].items()
            if key in required or key in VICTIM_FIELDS
        }
    if name in VICTIM_FIELDS:
        return VICTIM_FIELDS[name](t)
    if name in SAMPLES:
        return SAMPLES[name]()
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {}
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return today().isoformat()
        if fmt == "date-time":
            return f"{today().isoformat()}T09:00:00+08:00"
        return "isolation"
    return {"integer": 1, "number": 1, "boolean": True, "array": []}.get(str(kind), "isolation")


def upload(route: Route, t: Tenant) -> SimpleUploadedFile:
    """A file for an upload field, naming the victim (their passport, USCC, bill number)."""
    passport = t.passport
    if "bank" in route.bare:
        text = (
            "transaction_id,date,amount,payer_uscc,reference\n"
            f"ISO{uuid.uuid4().hex[:12]},{today().isoformat()},100.00,{t.employer.uscc},{t.bill.number}\n"
        )
    elif "entry-exit" in route.bare:
        text = (
            "passport_country,passport_number,date,direction,port\n"
            f"{_country(t)},{passport},{today().isoformat()},entry,Pudong\n"
        )
    elif "hires" in route.bare:
        row = {c.name: c.example for c in hire_imports.COLUMNS}
        row.update(passport_number=passport, nationality=_country(t), family_name="Intruder")
        text = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
    else:
        text = (
            "passport_country,passport_number,period_start,wage\n"
            f"{_country(t)},{passport},{BILL_MONTH},40000.00\n"
        )
    return SimpleUploadedFile("isolation.csv", text.encode(), content_type="text/csv")


def portal_query(t: Tenant) -> dict[str, Any]:
    return {
        "employer": t.employer.pk,
        "person": t.person.pk,
        "region": t.region,
        "month": str(BILL_MONTH),
        "period": str(BILL_MONTH),
    }


def portal_form(route: Route, t: Tenant, own: Tenant | None = None) -> dict[str, Any]:
    """One form for every portal POST: each view reads the fields it knows. With ``own``, the
    employer is the attacker's own and the new hire carries the victim's passport."""
    on = today().isoformat()
    hire = {
        "family_name": "Intruder",
        "given_names": "Ivan",
        "sex": "male",
        "birth_date": "1990-01-01",
        "nationality": _country(t),
        "passport_number": t.passport,
        "permit_kind": "integrated_card",
        "permit_number": f"ICZZ{next(_serial):05d}",
        "permit_issued_on": (today() - timedelta(days=10)).isoformat(),
        "start_date": (today() - timedelta(days=5)).isoformat(),
        "monthly_wage": "30000.00",
    }
    return {
        **(hire if own is not None else {}),
        "employer": (own or t).employer.pk,
        "person": t.person.pk,
        "reason": "isolation test",
        "decision": "approve",
        f"a{t.application.pk}-reason": "isolation test",
        "entry_date": on,
        "new_valid_to": (today() + timedelta(days=800)).isoformat(),
        "change_date": on,
        "end_date": on,
        "position": "Intruder",
        "bill_number": t.bill.number,
        "amount": "100.00",
        "received_on": on,
        "reference": "isolation",
        "region_code": (own or t).region,
        "month": str(BILL_MONTH),
        "kind": "run",
        "wage": "30000.00",
        "period": str(BILL_MONTH),
        "token": "isolation",
        "text": "EXP1:0",
        "findings": t.finding.pk,
        "action": "dismiss",
        "deadline": (today() + timedelta(days=30)).isoformat(),
        "outcome": "no_fine",
        "file": upload(route, t),
        "photo": SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg"),
    }


@dataclass
class Probe:
    method: str
    path: str
    query: dict[str, Any]
    body: Any  # None, a dict sent as JSON, or ("form", dict) sent as multipart
    label: str
    names_victim_object: bool | None = None  # None: as the route does

    def sent(self) -> str:
        """Everything the request carried, to tell an echo of it from a leak."""
        body = self.body[1] if isinstance(self.body, tuple) else self.body
        files = []
        for value in body.values() if isinstance(body, dict) else ():
            if isinstance(value, SimpleUploadedFile) and value.content_type == "text/csv":
                value.seek(0)
                files.append(value.read().decode())
                value.seek(0)
        return f"{self.path} {self.query} {json.dumps(body, default=str)} {' '.join(files)}"


def _api_operation(route: Route, method: str) -> dict[str, Any]:
    return dict(SCHEMA["paths"][route.openapi_path][method.lower()])


SCHEMA = api.get_openapi_schema()


def probes(route: Route, t: Tenant, own: Tenant | None) -> Iterator[Probe]:
    """The requests for one route against one victim. The default language and the API get every
    variant; another language's copy of a page gets a plain read and the victim's form (the same
    view behind another prefix: it shows that the prefix changes nothing). ``own``: the
    attacker's tenant, for the variant that writes the victim's data into it."""
    components = SCHEMA.get("components", {}).get("schemas", {})
    thorough = route.path == route.bare
    for path in filled_paths(route, t):
        for method in route.methods:
            op = _api_operation(route, method) if route.surface == "api" else {}
            if method == "GET":
                yield Probe(method, path, {}, None, "plain")
                if route.names_an_object or not thorough:
                    continue  # the path names the object: the query adds nothing
                if route.surface == "api":
                    query = {
                        p["name"]: sample(p.get("schema", {}), p["name"], t, components)
                        for p in op.get("parameters", ())
                        if p["in"] == "query"
                        and (p.get("required") or p["name"] in VICTIM_FIELDS | SAMPLES)
                    }
                else:
                    query = portal_query(t)
                if query:
                    yield Probe(method, path, query, None, "victim query")
                continue
            if route.surface == "portal":
                if thorough:
                    yield Probe(method, path, {}, ("form", {}), "empty form")
                yield Probe(method, path, {}, ("form", portal_form(route, t)), "victim form")
                if own is not None and thorough and not route.names_an_object:
                    form = portal_form(route, t, own)
                    yield Probe(method, path, {}, ("form", form), "victim's data, own employer")
                continue
            yield from _api_writes(route, method, op, path, t, own, components)


def _api_writes(
    route: Route,
    method: str,
    op: dict[str, Any],
    path: str,
    t: Tenant,
    own: Tenant | None,
    components: dict[str, Any],
) -> Iterator[Probe]:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content or not content:
        yield Probe(method, path, {}, {}, "empty JSON")
    if "application/json" in content:
        schema = content["application/json"]["schema"]
        body = sample(schema, "", t, components)
        yield Probe(method, path, {}, body if body is not None else {}, "victim JSON")
        if own is not None and not route.names_an_object:
            mixed = sample(schema, "", t, components, own)
            if mixed != body:
                yield Probe(method, path, {}, mixed, "victim's data, own employer")
    elif "multipart/form-data" in content:
        schema = content["multipart/form-data"]["schema"]
        yield Probe(method, path, {}, ("form", {}), "empty form")
        variants = [(None, "victim form")]
        if own is not None and not route.names_an_object:
            variants.append((own, "victim's file, own employer"))
        for owner, label in variants:
            form: dict[str, Any] = {}
            for key, sub in schema.get("properties", {}).items():
                if sub.get("format") == "binary":
                    form[key] = (
                        SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg")
                        if key in ("photo", "image")
                        else upload(route, t)
                    )
                else:
                    value = sample(sub, key, t, components, owner)
                    form[key] = str(value).lower() if isinstance(value, bool) else value
            if owner is None or any(k in OWN_FIELDS for k in form):
                yield Probe(method, path, {}, ("form", form), label)
    if own is not None and "employer_id" in route.params:
        # The attacker's own employer in the path, the victim's objects and data after it: a
        # victim's API token revoked, a victim's user made HR of the attacker's employer.
        own_path = path.replace(f"/{t.employer.pk}/", f"/{own.employer.pk}/", 1)
        own_path = re.sub(rf"/{t.employer.pk}$", f"/{own.employer.pk}", own_path)
        json_schema = content.get("application/json", {}).get("schema")
        body = sample(json_schema, "", t, components, own) if json_schema else {}
        names_victim = [p for p in route.params if p != "employer_id"]
        if own_path != path and (names_victim or json_schema):
            yield Probe(
                method,
                own_path,
                {},
                body or {},
                "own employer, victim's object" if names_victim else "own employer, victim's data",
                names_victim_object=bool(names_victim),
            )


def send(world: IsoWorld, role: str, probe: Probe) -> HttpResponseBase:
    client = world.client(role)
    if probe.method == "GET":
        return client.get(probe.path, probe.query)
    if isinstance(probe.body, tuple):  # a form, as multipart like a browser's
        data = encode_multipart(BOUNDARY, probe.body[1])
        return client.generic(probe.method, probe.path, data, content_type=MULTIPART_CONTENT)
    return client.generic(
        probe.method, probe.path, json.dumps(probe.body), content_type="application/json"
    )


# --- what must not change -------------------------------------------------------------------------


def _snapshot_queries(t: Tenant) -> dict[str, QuerySet[Any]]:
    """Every row of the victim tenant a write could touch, and the rows a write could add to it."""
    e, people, users = t.employer, t.person_ids, t.user_ids
    of_tenant = Q(employer=e) | Q(person_id__in=people)
    cards = Card.objects.filter(of_tenant).values("pk")
    return {
        "employers of the region": Employer.objects.filter(region_code=t.region),
        "HR memberships": HrMembership.objects.filter(Q(employer=e) | Q(user_id__in=users)),
        "users": get_user_model().objects.filter(pk__in=users),
        "API tokens": ApiToken.objects.filter(employer=e),
        "work-injury ratings": WorkInjuryRating.objects.filter(employer=e),
        "people": Person.objects.filter(pk__in=people),
        "passports": Passport.objects.filter(person_id__in=people),
        "documents": Document.objects.filter(person_id__in=people),
        "entry/exit records": EntryExit.objects.filter(person_id__in=people),
        "certificates": CoverageCertificate.objects.filter(person_id__in=people),
        "employments": Employment.objects.filter(of_tenant),
        "registrations": Registration.objects.filter(of_tenant),
        "cards": Card.objects.filter(of_tenant),
        "card applications": CardApplication.objects.filter(card__in=cards),
        "card application documents": ApplicationDocument.objects.filter(
            application__card__in=cards
        ),
        "card codes": CardToken.objects.filter(card__in=cards),
        "declarations": BaseDeclaration.objects.filter(of_tenant),
        "billing runs": BillingRun.objects.filter(region_code=t.region),
        "bills": Bill.objects.filter(Q(employer=e) | Q(region_code=t.region)),
        "bill lines": BillLine.objects.filter(Q(bill__employer=e) | Q(person_id__in=people)),
        "payments": Payment.objects.filter(employer=e),
        "allocations": Allocation.objects.filter(Q(bill__employer=e) | Q(payment__employer=e)),
        "notifications": Notification.objects.filter(user_id__in=users),
        "departures": DepartureCase.objects.filter(person_id__in=people),
        "termination applications": TerminationApplication.objects.filter(person_id__in=people),
        "bank accounts abroad": BankAccount.objects.filter(person_id__in=people),
        "payouts": Payout.objects.filter(Q(person_id__in=people) | Q(region_code=t.region)),
        "payment runs": PaymentRun.objects.filter(region_code=t.region),
        "pensions": Pension.objects.filter(person_id__in=people),
        "proofs of life": ProofOfLife.objects.filter(person_id__in=people),
        "programme applications": ProgrammeApplication.objects.filter(person_id__in=people),
        "compliance findings": Finding.objects.filter(employer=e),
        "enforcement cases": Case.objects.filter(employer=e),
        "fine proposals": FineProposal.objects.filter(case__employer=e),
        "case history": CaseEvent.objects.filter(Q(case__employer=e) | Q(finding__employer=e)),
        "opt-outs": OptOut.objects.filter(of_tenant),
        "death reports": DeathReport.objects.filter(person_id__in=people),
        "inheritance claims": InheritanceClaim.objects.filter(person_id__in=people),
        "heirs": Heir.objects.filter(claim__person_id__in=people),
        "death documents": DeathDocument.objects.filter(death__person_id__in=people),
        "disputes": Dispute.objects.filter(of_tenant),
        "dispute documents": DisputeDocument.objects.filter(dispute__employer=e),
        "dispute corrections": DisputeCorrection.objects.filter(dispute__employer=e),
        "dispute history": DisputeEvent.objects.filter(dispute__employer=e),
        # A report from the public (cases/public_reports.py) about any employer is anyone's right
        # and shows the reporter nothing: the probes may add one; they change no other complaint.
        "complaints": Complaint.objects.filter(of_tenant).exclude(submitted_as="public"),
        "complaint history": ComplaintEvent.objects.filter(complaint__employer=e).exclude(
            complaint__submitted_as="public"
        ),
        "billing jobs queued": DBTaskResult.objects.filter(
            args_kwargs__kwargs__region_code=t.region
        ),
    }


_COMPILED: dict[tuple[str, int], list[tuple[str, str, Any]]] = {}


def snapshot(t: Tenant) -> dict[str, Any]:
    """The victim's rows, read with SQL compiled once per tenant (the ORM's compiling would
    otherwise cost more than the requests)."""
    key = (t.key, t.employer.pk)
    if key not in _COMPILED:
        _COMPILED[key] = [
            (name, *qs.order_by("pk").values_list().query.sql_with_params())
            for name, qs in _snapshot_queries(t).items()
        ]
    rows = {}
    with connection.cursor() as cursor:
        for name, sql, params in _COMPILED[key]:
            cursor.execute(sql, params)
            rows[name] = cursor.fetchall()
    return rows


def audit_about(t: Tenant, after: int) -> list[str]:
    """Audit events recorded after ``after`` that concern the victim."""
    objects = {
        ("employer", t.employer.pk),
        ("employment", t.employment.pk),
        ("registration", t.registration.pk),
        ("card", t.card.pk),
        ("card_application", t.application.pk),
        ("payment", t.payment.pk),
        ("api_token", t.token.pk),
        ("departure", t.departure.pk),
        ("termination", t.termination.pk),
        ("payment_run", t.payment_run.pk),
        ("programme_application", t.programme_application.pk),  # type: ignore[union-attr]
        ("finding", t.finding.pk),
        ("case", t.case.pk),
        ("dispute", t.dispute.pk),
        ("complaint", t.complaint.pk),
    }
    found = []
    for event in AuditEvent.objects.filter(id__gt=after):
        if event.person_id in t.person_ids or (event.object_type, _int(event.object_id)) in objects:
            found.append(
                f"{event.action} {event.object_type}:{event.object_id} by {event.actor_label}"
            )
    return found


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


# --- the test -------------------------------------------------------------------------------------

READ_REFUSED = {401, 403, 404, 405}
WRITE_REFUSED = {400, 401, 403, 404, 405, 409, 422}
LOGIN_URL = resolve_url(settings.LOGIN_URL)


def _to_login(response: HttpResponseBase) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and any(
        location.startswith(f"/{p}{LOGIN_URL.lstrip('/')}") for p in LANGUAGE_PREFIXES.values()
    )


def check(world: IsoWorld, route: Route, role: str, victim: str | None, probe: Probe) -> list[str]:
    """Send one probe in a savepoint that is rolled back; what went wrong, if anything."""
    t = world.tenants[victim or "B"]
    writes = probe.method not in ("GET", "HEAD", "OPTIONS")
    problems: list[str] = []
    with transaction.atomic():
        last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        before = snapshot(t) if writes and victim else None
        sent = probe.sent()
        response = send(world, role, probe)
        status = response.status_code
        where = f"{probe.method} {probe.path} ({probe.label})"
        if status >= 500:
            problems.append(f"{where}: {status}")
        if victim:
            body = response_bytes(response)
            text = searchable_text(response, body)
            if text is None:
                if 200 <= status < 300:
                    problems.append(f"{where}: served {response['Content-Type']} ({status})")
            else:
                found = leaks(text, t.markers, sent)
                if found:
                    problems.append(f"{where}: {status} shows tenant {victim}'s {found}")
            names_object = probe.names_victim_object
            if names_object is None:
                names_object = route.names_an_object
            if names_object and not _to_login(response):
                allowed = WRITE_REFUSED if writes else READ_REFUSED
                if status not in allowed and status < 500:
                    problems.append(f"{where}: answered {status} for tenant {victim}'s object")
            if before is not None:
                changed = _diff(before, snapshot(t))
                if changed:
                    problems.append(f"{where}: {status} changed tenant {victim}'s {changed}")
            audited = audit_about(t, last_event)
            if audited:
                problems.append(f"{where}: {status} audited {audited}")
        transaction.set_rollback(True)
    return problems


@pytest.mark.django_db  # each test in a savepoint of the module's transaction (iso_world)
@pytest.mark.parametrize(("route", "role", "victim"), list(_cases()))
def test_route_isolation(iso_world: IsoWorld, route: Route, role: str, victim: str | None) -> None:
    for param in route.params:
        route.kind_of(param)  # an unknown parameter fails here, saying what to add
    problems: list[str] = []
    own = iso_world.tenants[OWN_TENANT[role]] if role in OWN_TENANT else None
    for probe in probes(route, iso_world.tenants[victim or "B"], own):
        problems += check(iso_world, route, role, victim, probe)
    assert not problems, "\n".join(problems)


def test_every_route_is_tested_or_skipped_with_a_reason() -> None:
    assert not PROBLEMS, "\n".join(PROBLEMS)
    assert ROUTES
    for path, reason in SKIPPED.items():
        assert len(reason) > 20, f"{path}: say why it is skipped"
    # The walk reaches both languages and the API, each operation with its methods.
    paths = {r.path for r in ROUTES}
    assert {"billing/bills/<int:pk>/", "zh-hans/billing/bills/<int:pk>/"} <= paths
    methods = {r.path: r.methods for r in ROUTES}
    assert methods["api/v1/employers/<employer_id>/work-injury-ratings"] == ("GET", "POST")


def test_every_path_parameter_is_known() -> None:
    unknown = []
    for route in ROUTES:
        for param in route.params:
            try:
                route.kind_of(param)
            except LookupError as exc:
                unknown.append(str(exc))
    assert not unknown, "\n".join(unknown)


def test_an_unknown_parameter_fails_with_a_hint() -> None:
    route = Route("portal", "widgets/<int:widget_id>/", "widgets/<int:widget_id>/", ("GET",))
    with pytest.raises(LookupError, match=r"widget_id.*OBJECT_PARAMS"):
        route.kind_of("widget_id")
    stray = Route("portal", "zh-hans/gadgets/<int:pk>/", "gadgets/<int:pk>/", ("GET",))
    with pytest.raises(LookupError, match="PK_BY_PREFIX"):
        stray.kind_of("pk")


# --- the world is what the test assumes -----------------------------------------------------------

# Who may read each kind of object of tenant B (agency staff of every region, unless listed), and
# what a read answers where 200 is not the answer (a form that only takes POST).
OWNER_BY_PREFIX = {"inbox/": "hr_b", "benefits/leaving/": "other"}
OWNER_READ_STATUS = {
    "registrations/<int:pk>/accept/": 405,
    "inbox/<int:pk>/read/": 405,
    "cards/applications/<int:app_pk>/decide/": 405,
    "cards/<int:pk>/entry/": 405,
    "billing/runs/jobs/<str:key>/resume/": 405,  # POST only; the job page itself is checked
    "benefits/leaving/<int:departure_id>/keep/": 405,
    "benefits/applications/<int:termination_id>/decide/": 405,
    "benefits/applications/<int:termination_id>/bank/": 405,
    "benefits/programme-applications/<int:programme_application_id>/decide/": 405,
    "cases/findings/<int:finding_id>/open-case/": 405,  # POST only, like the case's steps
    "cases/findings/scans/<int:scan_id>/resume/": 405,  # POST only
    "cases/<int:case_id>/order/": 405,
    "cases/<int:case_id>/fines/": 405,
    "cases/<int:case_id>/decision/": 405,
    "cases/<int:case_id>/close/": 405,
    "benefits/pensions/<int:pension_id>/decide/": 405,
    "benefits/pensions/<int:pension_id>/proof/": 405,
    "benefits/proofs/<int:proof_id>/decide/": 405,
    "benefits/inheritance/<int:claim_id>/decide/": 405,
    "benefits/inheritance/<int:claim_id>/documents/": 405,
    "cards/applications/<int:app_pk>/decision/": 405,
    "cards/applications/<int:app_pk>/documents/": 405,
    "administration/employers/<int:pk>/hr/<int:membership_pk>/revoke/": 405,
    "administration/staff/<int:pk>/regions/": 405,
    "cases/disputes/<int:dispute_id>/stage/": 405,  # the dispute's steps: POST only
    "cases/disputes/<int:dispute_id>/documents/": 405,
    "cases/disputes/<int:dispute_id>/decision/": 405,
    "cases/disputes/<int:dispute_id>/correction/": 405,
    "cases/disputes/<int:dispute_id>/close/": 405,
    "cases/complaints/<int:complaint_id>/reply/": 405,
    "cases/complaints/<int:complaint_id>/close/": 405,
    "cases/complaints/<int:complaint_id>/finding/": 405,
}
CONTROL_ROUTES = [
    r for r in ROUTES if r.names_an_object and r.path == r.bare and "GET" in r.methods
]


@pytest.mark.django_db
@pytest.mark.parametrize("route", CONTROL_ROUTES, ids=lambda r: f"/{r.path}")
def test_the_owner_reaches_every_object_the_attackers_are_refused(
    iso_world: IsoWorld, route: Route
) -> None:
    """Without this, a missing object would make every attack a vacuous 404."""
    t = iso_world.tenants["B"]
    owner = next((o for p, o in OWNER_BY_PREFIX.items() if route.bare.startswith(p)), "agency")
    client = iso_world.client(owner)
    for path in filled_paths(route, t):
        response = client.get(path)
        expected = OWNER_READ_STATUS.get(route.bare, 200)
        assert response.status_code == expected, f"{path}: {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("/billing/bills/{bill}/bill.csv", "bill"),
        ("/billing/bills/{bill}/bill.xlsx", "bill"),
        ("/billing/bills/{bill}/bill.pdf", "bill"),
        ("/cards/{card}/card.pdf", "card"),
        ("/cases/{case}/order.pdf", "case"),
        ("/people/{person}/", "person"),
        ("/api/v1/employees/{person}", "person"),
    ],
)
def test_the_leak_detector_finds_the_markers_in_every_format(
    iso_world: IsoWorld, path: str, wanted: str
) -> None:
    """The owner's own downloads do show the markers: a detector that cannot find them in a CSV,
    a workbook or a PDF would pass every attack."""
    if path.endswith(".pdf") and PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is missing: PDFs are only refused, not searched")
    t = iso_world.tenants["B"]
    url = path.format(bill=t.bill.pk, card=t.card.pk, person=t.person.pk, case=t.case.pk)
    response = iso_world.client("agency").get(url)
    assert response.status_code == 200
    text = searchable_text(response, response_bytes(response))
    assert text is not None
    expected = {
        "bill": [t.bill.number, t.person.family_name],
        "card": [t.card.card_number or "", t.person.family_name],
        "person": [t.passport, t.person.family_name],
        "case": [t.case.number, t.employer.name],
    }[wanted]
    found = leaks(text, t.markers, sent="")
    assert set(expected) <= set(found), found
