"""billing/permissions.py: each question over every role.

The roles: agency staff of every region, of the employer's region and of another region; HR of the
employer and of another employer; the employer's employee; a system job; the public. Questions
about one employer need no database; the queryset filters are held to the same answers on the
billing tests' two tenants (Beijing Co. in 110000, Shanghai Rep Office in 310000).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from expatsi.access.actors import PUBLIC, SYSTEM, Actor
from expatsi.billing import permissions, selectors
from expatsi.billing.models import Bill, BillingRun, Payment
from expatsi.employers.models import Employer
from expatsi.rules.errors import Forbidden, NotFound
from tests.billing.web.conftest import BillingWorld, bworld  # noqa: F401 - the fixture, by name

HERE, ELSEWHERE = "110000", "310000"
EMPLOYER = Employer(pk=1, name="Beijing Co.", region_code=HERE)
OTHER_EMPLOYER_ID = 2
PERSON_ID = 7

ROLES: dict[str, Actor] = {
    "agency_all": Actor("agency", 1, "agency-all", regions=None),
    "agency_here": Actor("agency", 2, "agency-bj", regions=frozenset({HERE})),
    "agency_elsewhere": Actor("agency", 3, "agency-sh", regions=frozenset({ELSEWHERE})),
    "hr_of_employer": Actor("hr", 4, "hr-a", employer_ids=frozenset({EMPLOYER.pk})),
    "hr_of_other": Actor("hr", 5, "hr-b", employer_ids=frozenset({OTHER_EMPLOYER_ID})),
    "employee": Actor("employee", 6, "alpha", person_id=PERSON_ID),
    "system": SYSTEM,
    "public": PUBLIC,
}
AGENCY = {"agency_all", "agency_here", "agency_elsewhere"}
AGENCY_OF_REGION = {"agency_all", "agency_here", "system"}


def answers(question: Callable[[Actor], bool]) -> set[str]:
    """The roles for which ``question(actor)`` is true."""
    return {name for name, actor in ROLES.items() if question(actor)}


def _in_world(actor: Actor, world: BillingWorld) -> Actor:
    """The role with the billing world's employers in place of this file's made-up ids."""
    ids = {EMPLOYER.pk: world.a.pk, OTHER_EMPLOYER_ID: world.b.pk}
    if actor.kind != "hr":
        return actor
    return Actor(
        "hr", actor.user_id, actor.label, employer_ids=frozenset(ids[i] for i in actor.employer_ids)
    )


def refusal(check: Callable[[Actor, Employer], None], actor: Actor) -> type[Exception] | None:
    try:
        check(actor, EMPLOYER)
    except (Forbidden, NotFound) as exc:
        return type(exc)
    return None


# --- may this actor see this employer's bills (payments, balance)? ---------------------------------


def test_who_sees_an_employers_bills() -> None:
    assert answers(lambda a: permissions.may_see_bills(a, EMPLOYER)) == {
        *AGENCY_OF_REGION,
        "hr_of_employer",
    }


def test_who_sees_the_bill_pages_at_all() -> None:
    assert answers(permissions.may_see_bills) == {
        *AGENCY,
        "hr_of_employer",
        "hr_of_other",
        "system",
    }


@pytest.mark.django_db
def test_bill_and_payment_scope_is_the_same_rule(request: pytest.FixtureRequest) -> None:
    world: BillingWorld = request.getfixturevalue("bworld")
    for name, actor in ROLES.items():
        actor = _in_world(actor, world)
        expected = {
            b.pk for b in Bill.objects.all() if permissions.may_see_bills(actor, b.employer)
        }
        assert {b.pk for b in selectors.bills_visible(actor)} == expected, name
        paid = {p.pk for p in Payment.objects.all() if permissions.may_see_bills(actor, p.employer)}
        assert {p.pk for p in selectors.payments_visible(actor)} == paid, name


# --- may this actor start (follow, resume) a billing run for this region? ---------------------------


def test_who_runs_billing_for_a_region() -> None:
    assert answers(lambda a: permissions.may_run_billing(a, HERE)) == AGENCY_OF_REGION


def test_who_sees_the_run_pages_at_all() -> None:
    assert answers(permissions.may_run_billing) == {*AGENCY, "system"}


@pytest.mark.django_db
def test_run_and_job_scope_is_the_same_rule(request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("bworld")
    assert set(BillingRun.objects.values_list("region_code", flat=True)) == {HERE, ELSEWHERE}
    for name, actor in ROLES.items():
        expected = {
            r.pk
            for r in BillingRun.objects.all()
            if permissions.may_run_billing(actor, r.region_code)
        }
        assert {r.pk for r in selectors.runs_visible(actor)} == expected, name


# --- may this actor record a payment from this employer? --------------------------------------------


def test_who_records_an_employers_payment() -> None:
    assert answers(lambda a: permissions.may_record_payment(a, EMPLOYER)) == AGENCY_OF_REGION
    assert answers(permissions.may_record_payment) == {*AGENCY, "system"}


def test_a_refused_payment_tells_hr_why_and_hides_the_employer_from_others() -> None:
    refused = {name: refusal(permissions.check_record_payment, a) for name, a in ROLES.items()}
    assert refused == {
        "agency_all": None,
        "agency_here": None,
        "agency_elsewhere": NotFound,
        "hr_of_employer": Forbidden,
        "hr_of_other": NotFound,
        "employee": NotFound,
        "system": None,
        "public": NotFound,
    }


# --- may this actor import a bank statement? ------------------------------------------------------


def test_who_imports_bank_statements() -> None:
    assert answers(permissions.may_import_bank_statement) == {*AGENCY, "system"}


# --- may this actor credit individual accounts, and close the year? --------------------------------


def test_who_credits_paid_contributions_to_accounts() -> None:
    assert answers(lambda a: permissions.may_credit_accounts(a, EMPLOYER)) == AGENCY_OF_REGION
    assert answers(permissions.may_credit_accounts) == {"agency_all", "system"}  # every employer


def test_who_closes_the_accounts_year() -> None:
    assert answers(permissions.may_close_account_year) == {"agency_all", "system"}


# --- may this actor declare this employer's contribution bases? -------------------------------------


def test_who_declares_an_employers_bases() -> None:
    assert answers(lambda a: permissions.may_declare(a, EMPLOYER)) == {
        *AGENCY_OF_REGION,
        "hr_of_employer",
    }
    assert answers(permissions.may_declare) == {*AGENCY, "hr_of_employer", "hr_of_other", "system"}


def test_a_refused_declaration_tells_the_employee_why_and_hides_the_employer_from_others() -> None:
    refused = {name: refusal(permissions.check_declare, a) for name, a in ROLES.items()}
    assert refused == {
        "agency_all": None,
        "agency_here": None,
        "agency_elsewhere": NotFound,
        "hr_of_employer": None,
        "hr_of_other": NotFound,
        "employee": Forbidden,
        "system": None,
        "public": NotFound,
    }


# --- may this actor see collection per region and month? --------------------------------------------


def test_who_sees_collection() -> None:
    assert answers(permissions.may_see_collection) == {*AGENCY, "system"}


# --- whose contributions, account and pension outlook may this actor read? ------------------------


def test_who_reads_their_own_record() -> None:
    assert answers(permissions.has_own_record) == {"employee"}
    assert not permissions.has_own_record(Actor("employee", 9, "no person yet"))


def test_who_reads_other_peoples_records() -> None:
    assert answers(permissions.may_see_others_records) == {*AGENCY, "system"}
