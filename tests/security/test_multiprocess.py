"""On PostgreSQL, several PROCESSES (separate interpreters, separate connections — as app servers
and workers are) doing the same thing at the same moment: nothing is ever applied twice.

Each child connects first, then all are released together (tests/security/processes.together), so
their transactions overlap for real; the thread-based tests elsewhere share one interpreter.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.models import AuditEvent
from expatsi.billing.models import Allocation, Bill, BillKind, Payment
from expatsi.cards import services as cards
from expatsi.cards.models import Card, CardApplication, CardEvent, PermitNumber
from expatsi.employers.models import Employer
from expatsi.insurance.models import Registration, RegistrationStatus
from expatsi.people.models import Person
from expatsi.rules.identifiers import check_id
from tests.notify.factories import employer, hire
from tests.security.processes import postgres_url, together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("EXPATSI_REQUIRE_POSTGRES_TESTS"),
        reason="needs PostgreSQL (row locks between processes); SQLite serialises writers",
    ),
    pytest.mark.django_db(transaction=True),
]

AGENCY = Actor("agency", None, "officer")


@pytest.fixture
def url() -> str:
    assert connection.vendor == "postgresql", "EXPATSI_REQUIRE_POSTGRES_TESTS without PostgreSQL"
    return postgres_url()


# --- registrations and social security numbers ----------------------------------------------------

ACCEPT = """
from datetime import date
from expatsi.access.actors import Actor
from expatsi.insurance.services import registration_accept
from expatsi.rules.errors import Conflict

done = []
for reg_id in ARGS["ids"]:
    try:
        registration_accept(actor=Actor("agency", None, "officer"), registration_id=reg_id,
                            registered_on=date(2026, 1, 20))
        done.append("won")
    except Conflict as exc:
        done.append(exc.code)
print(json.dumps({"outcomes": done}))
"""


def test_two_processes_accepting_one_registration_accept_it_once(url):
    reg = hire(employer("310000"), permit_issued=date(2026, 1, 5))
    answers = together(url, ACCEPT, [{"ids": [reg.pk]}, {"ids": [reg.pk]}])
    assert sorted(a["outcomes"][0] for a in answers) == ["won", "wrong_state"]
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.ACCEPTED
    person = Person.objects.get(pk=reg.person_id)
    assert person.ssn and check_id(person.ssn, "foreigner_ssn").valid
    assert (
        AuditEvent.objects.filter(action="registration.accept", object_id=str(reg.pk)).count() == 1
    )
    # the winner's number is the first of its sequence: the loser consumed none
    assert int(person.ssn[14:17]) == 1


def test_several_processes_assigning_numbers_never_share_or_skip_one(url):
    emp = employer("310000", "Many Hires Co.")
    regs = [
        hire(emp, permit_issued=date(2026, 1, 5), birth=date(1985, 3, 14), sex="male").pk
        for _ in range(24)
    ]
    processes = 4
    answers = together(url, ACCEPT, [{"ids": regs[i::processes]} for i in range(processes)])
    assert all(o == "won" for a in answers for o in a["outcomes"])
    assert Registration.objects.filter(status=RegistrationStatus.ACCEPTED).count() == len(regs)
    numbers = list(Person.objects.values_list("ssn", flat=True))
    assert None not in numbers and len(set(numbers)) == len(regs)
    assert all(check_id(n, "foreigner_ssn").valid for n in numbers)
    sequence = sorted(int(n[14:17]) for n in numbers)
    assert sequence == list(range(1, 2 * len(regs), 2))  # men: odd numbers, no gap, no repeat


# --- card applications ----------------------------------------------------------------------------

DECIDE = """
from expatsi.access.actors import Actor
from expatsi.cards.services import application_decide
from expatsi.rules.errors import Conflict

try:
    application_decide(actor=Actor("agency", None, "officer"), application_id=ARGS["id"],
                       approve=ARGS["approve"], reason="photo unusable")
    print(json.dumps({"outcome": "won"}))
except Conflict as exc:
    print(json.dumps({"outcome": exc.code}))
"""


@pytest.mark.parametrize("decisions", [(True, True), (True, False)], ids=["approve2", "mixed"])
def test_two_processes_deciding_one_card_application_decide_it_once(url, decisions):
    emp = Employer.objects.create(name="Card Co.", uscc="91110000600037341L", region_code="110000")
    person = Person.objects.create(
        family_name="Mueller",
        given_names="Hans",
        sex="male",
        birth_date=date(1980, 5, 17),
        nationality="DEU",
        ssn="911276198005170018",
    )
    app = cards.card_apply(
        actor=Actor("hr", None, "hr", employer_ids=frozenset({emp.pk})),
        employer=emp,
        person=person,
        category="B",
        position="Engineer",
        valid_to=timezone.localdate() + timedelta(days=365),
    )
    answers = together(url, DECIDE, [{"id": app.pk, "approve": d} for d in decisions])
    assert sorted(a["outcome"] for a in answers) == ["already_decided", "won"]
    app.refresh_from_db()
    events = CardEvent.objects.filter(card_id=app.card_id).exclude(action="apply")
    assert events.count() == 1  # one decision reached the card
    card = Card.objects.get(pk=app.card_id)
    if app.status == "approved":
        assert PermitNumber.objects.filter(person=person).count() == 1
        assert card.status != "rejected"
    else:
        assert card.status == "rejected"
    assert CardApplication.objects.filter(card_id=app.card_id).count() == 1


# --- payments -------------------------------------------------------------------------------------

PAY = """
from datetime import date
from expatsi.access.actors import Actor
from expatsi.billing.services import payment_record
from expatsi.employers.models import Employer
from expatsi.rules.errors import RuleError

try:
    payment = payment_record(
        actor=Actor("agency", None, "officer"), employer=Employer.objects.get(pk=ARGS["employer"]),
        amount=ARGS["amount"], received_on=date(2026, 3, 2), reference=ARGS["reference"],
        source="bank", external_id=ARGS["tx"],
    )
    print(json.dumps({"payment": payment.pk}))
except RuleError as exc:
    print(json.dumps({"error": exc.code}))
"""
STATEMENT = """
from expatsi.access.actors import Actor
from expatsi.billing.services import bank_statement_import

report = bank_statement_import(actor=Actor("agency", None, "officer"), text=ARGS["text"])
print(json.dumps({"recorded": report.recorded, "already": report.already_recorded,
                  "errors": [str(e) for e in report.errors]}))
"""


def a_bill(total: int = 1_000_000) -> Bill:
    emp = employer("110000", "Payer Co.")
    return Bill.objects.create(
        employer=emp,
        region_code="110000",
        month="2026-02",
        kind=BillKind.REGULAR,
        number="110000-2026-02-99999999",
        policy_version="test",
        employer_total=total * 7 // 10,
        employee_total=total - total * 7 // 10,
        due_date=date(2026, 3, 15),
    )


def applied(bill: Bill) -> tuple[int, int]:
    """(payments recorded, fen allocated to the bill)."""
    sums = Allocation.objects.filter(bill=bill).aggregate(p=Sum("principal"), f=Sum("late_fee"))
    return Payment.objects.count(), (sums["p"] or 0) + (sums["f"] or 0)


def test_two_processes_recording_one_bank_transaction_apply_it_once(url):
    bill = a_bill()
    job = {
        "employer": bill.employer_id,
        "amount": 400_000,
        "reference": bill.number,
        "tx": "BANK-TX-1",
    }
    answers = together(url, PAY, [job, job])
    payment = Payment.objects.get()
    # Both callers get the one payment, as a retry after the first commit would: idempotent.
    assert answers == [{"payment": payment.pk}, {"payment": payment.pk}]
    assert applied(bill) == (1, 400_000)
    assert AuditEvent.objects.filter(action="payment.record").count() == 1


def test_two_processes_importing_one_statement_record_each_payment_once(url):
    bill = a_bill()
    uscc = bill.employer.uscc
    text = "transaction_id,date,amount,payer_uscc,reference\n" + "".join(
        f"ST-{i},2026-03-0{i},1000.00,{uscc},\n" for i in range(1, 6)
    )
    answers = together(url, STATEMENT, [{"text": text}, {"text": text}])
    assert [a["errors"] for a in answers] == [[], []]
    assert sorted((a["recorded"], a["already"]) for a in answers) == [(0, 5), (5, 0)]
    assert applied(bill) == (5, 500_000)
    assert AuditEvent.objects.filter(action="payment.record").count() == 5


def test_processes_paying_one_bill_at_once_never_overpay_it(url):
    bill = a_bill(total=1_000_000)
    jobs = [
        {"employer": bill.employer_id, "amount": 400_000, "reference": "", "tx": f"PAY-{i}"}
        for i in range(3)
    ]
    answers = together(url, PAY, jobs)
    assert all("payment" in a for a in answers)
    count, allocated = applied(bill)
    assert (count, allocated) == (3, 1_000_000)  # the bill takes exactly its total
    from expatsi.billing.payments import employer_balance

    balance = employer_balance(bill.employer, on=date(2026, 3, 2))
    assert (balance.principal_outstanding, balance.credit) == (0, 200_000)
