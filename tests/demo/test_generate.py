"""expatsi demo generate: the counts asked for, the same rows for the same seed, data the system's
own checks accept, and no surprise writes into a database that holds other data."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.db.models import Count, Sum
from stdnum import luhn

from expatsi.access.actors import SYSTEM
from expatsi.audit.services import audit_verify
from expatsi.billing.models import AccountCredit, Allocation, Bill, BillLine, Payment
from expatsi.billing.payments import bill_state
from expatsi.cards.models import Card, CardStatus, PermitNumber
from expatsi.cli import main
from expatsi.demo.generate import DOMAIN, digest, generate
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment, Registration, RegistrationStatus
from expatsi.insurance.services import registration_accept
from expatsi.people.models import Document, DocumentKind, EntryExit, Passport, Person
from expatsi.rules.identifiers import check_id
from expatsi.rules.regions import regions
from tests.factories import EmployerFactory

TODAY = date(2026, 11, 30)
SIZE = {"employees": 300, "employers": 12, "months": 3}


def run(seed: int = 1, **kw: object):
    return generate(actor=SYSTEM, today=TODAY, seed=seed, **{**SIZE, **kw})  # type: ignore[arg-type]


def cli(*extra: str) -> int:
    return main(
        [
            "demo",
            "generate",
            "--employees",
            "300",
            "--employers",
            "12",
            "--months",
            "3",
            "--today",
            TODAY.isoformat(),
            "--quiet",
            *extra,
        ]
    )


@pytest.mark.django_db
def test_counts_per_table(capsys):
    assert cli() == 0
    assert Employer.objects.count() == 12
    assert Person.objects.count() == 300
    assert Passport.objects.filter(is_current=True).count() == 300
    assert PermitNumber.objects.count() == 300  # one permit number per person, for life
    employments = Employment.objects.count()
    assert 300 < employments < 300 * 1.3  # some changed employer
    assert Employment.objects.filter(end_reason="changed").count() == employments - 300
    assert Employment.objects.filter(end_reason="ended").exists()
    assert Card.objects.count() == employments == Registration.objects.count()
    # a document per card, and a residence permit per person
    assert Document.objects.filter(card__isnull=False).count() == employments
    assert Document.objects.filter(kind=DocumentKind.RESIDENCE_PERMIT).count() == 300
    assert EntryExit.objects.count() >= 300
    months = set(Bill.objects.values_list("month", flat=True))
    assert months == {"2026-08", "2026-09", "2026-10"}
    assert Payment.objects.count() == Allocation.objects.count() > 0
    assert AccountCredit.objects.exists()
    assert "generated" in capsys.readouterr().out


@pytest.mark.django_db
def test_data_passes_the_systems_own_checks():
    run()
    for e in Employer.objects.all():
        assert check_id(e.uscc, "uscc").valid, e.uscc
        assert e.region_code in regions()  # only regions with a policy on file
    persons = list(Person.objects.all())
    assert all(p.email.endswith("@" + DOMAIN) for p in persons)
    with_ssn = [p for p in persons if p.ssn]
    assert len(with_ssn) > 250
    for p in with_ssn:
        check = check_id(p.ssn, "foreigner_ssn", today=TODAY)
        assert check.valid, (p.ssn, check.reason)
    for pn in PermitNumber.objects.all():
        assert len(pn.number) == 18 and luhn.is_valid(pn.number)
    for card in Card.objects.select_related("document", "person__permit_number", "employer"):
        assert card.permit_number == card.person.permit_number.number
        assert card.document is not None
        if card.legacy:
            assert card.card_number is None and card.document.kind == DocumentKind.WORK_PERMIT
            assert card.document.number == card.permit_number
        else:
            assert (
                card.card_number
                == f"{card.employer.region_code[:2]}{card.valid_from:%y}{card.pk:010d}"
            )
            assert card.document.kind == DocumentKind.INTEGRATED_CARD
            assert card.document.number == card.card_number
    # one live card per person at most (the database says so too), on the current employment
    live = Counter(
        Card.objects.filter(status=CardStatus.ACTIVE).values_list("person_id", flat=True)
    )
    assert max(live.values()) == 1
    # wages: integer fen, plausible
    wages = list(Employment.objects.values_list("contract_wage", flat=True))
    assert all(isinstance(w, int) and 600_000 <= w <= 30_000_000 and w % 100 == 0 for w in wages)
    # bills reconcile: each total is the sum of its lines
    sums = {
        r["bill"]: (r["er"], r["ee"])
        for r in BillLine.objects.values("bill").annotate(
            er=Sum("employer_amount"), ee=Sum("employee_amount")
        )
    }
    for bill in Bill.objects.all():
        assert sums[bill.pk] == (bill.employer_total, bill.employee_total)
    # payments: most on time, some late (late fees), some unpaid (arrears)
    states = [
        bill_state(b, TODAY)
        for b in Bill.objects.prefetch_related("allocations")
        if b.due_date <= TODAY
    ]
    paid_late = [s for s in states if s.outstanding == 0 and s.late_fee > 0]
    unpaid = [s for s in states if s.outstanding > 0]
    on_time = [s for s in states if s.outstanding == 0 and s.late_fee == 0]
    assert len(on_time) > len(paid_late) + len(unpaid)
    assert paid_late or unpaid
    assert audit_verify() == (True, None)


@pytest.mark.django_db
def test_generated_data_works_with_the_services():
    """A registration left waiting is accepted by the real service: the SSN sequences continue
    where the generated numbers stopped."""
    run()
    waiting = Registration.objects.filter(status=RegistrationStatus.SUBMITTED).select_related(
        "person"
    )
    waiting = [r for r in waiting if not r.person.ssn]
    assert waiting
    reg = registration_accept(actor=SYSTEM, registration_id=waiting[0].pk, registered_on=TODAY)
    reg.person.refresh_from_db()
    assert check_id(reg.person.ssn, "foreigner_ssn", today=TODAY).valid
    assert Person.objects.filter(ssn=reg.person.ssn).count() == 1


def empty_database() -> None:
    """Every table emptied and every id sequence back at 1, as in a new database."""
    call_command("flush", interactive=False, verbosity=0)
    sequences = connection.introspection.sequence_list()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_by_name_sql(no_style(), sequences):
            cursor.execute(sql)


@pytest.mark.django_db(transaction=True)
def test_deterministic_for_a_seed():
    """Same seed, same rows, hashed table by table (timestamps and salted ciphertext aside)."""
    empty_database()  # earlier tests rolled back, but PostgreSQL's sequences moved on
    run(seed=5)
    first = digest()
    empty_database()
    run(seed=5)
    assert digest() == first
    empty_database()
    run(seed=6)
    other = digest()
    assert other["people_person"] != first["people_person"]
    assert other["billing_billline"] != first["billing_billline"]


@pytest.mark.django_db
def test_refuses_a_database_with_other_data(capsys):
    EmployerFactory()
    assert cli() == 2
    assert "refusing" in capsys.readouterr().err
    assert not Person.objects.exists()
    assert cli("--append") == 0
    assert Person.objects.count() == 300


@pytest.mark.django_db
def test_second_run_does_nothing_and_says_so(capsys):
    assert cli() == 0
    before = {
        m.__name__: m.objects.count() for m in (Person, Card, Bill, BillLine, Payment, EntryExit)
    }
    capsys.readouterr()
    assert cli() == 0
    assert "nothing to do" in capsys.readouterr().out
    assert {
        m.__name__: m.objects.count() for m in (Person, Card, Bill, BillLine, Payment, EntryExit)
    } == before
    # other parameters on generated data: refused, exit code 2
    assert cli("--seed", "9") == 2


@pytest.mark.django_db
def test_appending_a_second_batch_keeps_identifiers_unique():
    run()
    run(seed=2, append=True)
    assert Employer.objects.count() == 24
    assert (
        Person.objects.values("ssn")
        .exclude(ssn=None)
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
        == 0
    )
    assert Passport.objects.count() == 600


@pytest.mark.django_db
def test_an_interrupted_run_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed during the payments of the second month: the phases done stay done, starting again
    finishes the rest and writes nothing twice."""
    from expatsi.demo import generate as module

    real = module._payments

    def dies_in_september(params, batch, month, actor):  # type: ignore[no-untyped-def]
        if str(month) == "2026-09":
            raise KeyboardInterrupt
        return real(params, batch, month, actor)

    monkeypatch.setattr(module, "_payments", dies_in_september)
    with pytest.raises(KeyboardInterrupt):
        run()
    assert Person.objects.count() == 300
    assert not Payment.objects.filter(allocations__bill__month="2026-09").exists()
    monkeypatch.setattr(module, "_payments", real)
    report = run()
    assert "population" in report.skipped and "payments 2026-08" in report.skipped
    assert {"payments 2026-09", "payments 2026-10"} <= set(report.phases)
    assert not any(phase.endswith("2026-08") for phase in report.phases)
    assert Person.objects.count() == 300
    assert Payment.objects.filter(allocations__bill__month="2026-09").exists()
    assert (
        Bill.objects.values("employer", "month", "kind")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
        == 0
    )


@pytest.mark.django_db
def test_active_cards_carry_a_qr_token_that_verifies() -> None:
    """Each active Integrated Card gets one signed token, as token_issue signs it; the card
    verification accepts it and reads the card's own data back."""
    from expatsi.cards.models import CardToken
    from expatsi.cards.verification import verify_text

    run()
    active = Card.objects.filter(status=CardStatus.ACTIVE, legacy=False)
    assert CardToken.objects.count() == active.count() > 0
    for token in CardToken.objects.select_related("card__person")[:25]:
        answer = verify_text(token.text)
        assert answer.result in ("valid", "expired"), answer.message  # expired: years from now
        assert answer.card is not None
        assert answer.card["card_number"] == token.card.card_number
        assert answer.card["permit_number"] == token.card.permit_number


@pytest.mark.django_db
def test_without_tokens_when_asked() -> None:
    from expatsi.cards.models import CardToken

    run(tokens=False)
    assert Card.objects.filter(status=CardStatus.ACTIVE).exists()
    assert not CardToken.objects.exists()
