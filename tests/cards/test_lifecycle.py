"""Every lifecycle path of the Integrated Card, and every refusal."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.cards import keys, services
from expatsi.cards.models import (
    ApplicationStatus,
    Card,
    CardApplication,
    CardStatus,
    CardToken,
    PermitNumber,
)
from expatsi.credentials import token as qr_token
from expatsi.insurance.models import Employment
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError

from .conftest import AGENCY

TODAY = timezone.localdate()


def active_card(hr, employer, person, valid_to=None):
    app = services.card_apply(
        actor=hr,
        employer=employer,
        person=person,
        category="B",
        position="Engineer",
        valid_to=valid_to or TODAY + timedelta(days=365),
    )
    services.application_decide(actor=AGENCY, application_id=app.pk, approve=True)
    return services.card_record_entry(actor=hr, card_id=app.card_id, entry_date=TODAY)


def verify(text):
    return qr_token.verify(text, keys.trust_list(), keys.revocation_list(fresh=True))


@pytest.mark.django_db
def test_first_entry_notice_90_days_then_entry_activates_with_30_day_clock(hr, employer, person):
    app = services.card_apply(
        actor=hr,
        employer=employer,
        person=person,
        category="A",
        position="CTO",
        valid_to=TODAY + timedelta(days=700),
    )
    card = app.card
    assert card.status == CardStatus.APPLIED
    services.application_decide(actor=AGENCY, application_id=app.pk, approve=True)
    card.refresh_from_db()
    assert card.status == CardStatus.NOTICE_ISSUED
    assert card.notice_valid_to == TODAY + timedelta(days=90)
    assert len(card.permit_number) == 18 and card.permit_number.isdigit()
    entry = TODAY
    card = services.card_record_entry(actor=hr, card_id=card.pk, entry_date=entry)
    assert card.status == CardStatus.ACTIVE
    assert card.residence_permit_due == entry + timedelta(days=30)
    tok = card.tokens.get()
    assert verify(tok.text).result == "valid"
    assert verify(tok.text).claims.permit_number == card.permit_number


@pytest.mark.django_db
def test_entry_after_the_notice_lapsed_is_refused(hr, employer, person):
    app = services.card_apply(
        actor=hr,
        employer=employer,
        person=person,
        category="B",
        position="Engineer",
        valid_to=TODAY + timedelta(days=365),
    )
    services.application_decide(actor=AGENCY, application_id=app.pk, approve=True)
    with pytest.raises(RuleError) as exc:
        services.card_record_entry(
            actor=hr, card_id=app.card_id, entry_date=TODAY + timedelta(days=91)
        )
    assert exc.value.code == "notice_lapsed"
    report = services.cards_expire(actor=AGENCY, today=TODAY + timedelta(days=91))
    assert report.lapsed == 1
    assert Card.objects.get(pk=app.card_id).status == CardStatus.LAPSED


@pytest.mark.django_db
def test_rejection_needs_a_reason_and_ends_the_application(hr, employer, person):
    app = services.card_apply(
        actor=hr,
        employer=employer,
        person=person,
        category="C",
        position="Chef",
        valid_to=TODAY + timedelta(days=200),
    )
    with pytest.raises(RuleError):
        services.application_decide(actor=AGENCY, application_id=app.pk, approve=False, reason="")
    services.application_decide(
        actor=AGENCY, application_id=app.pk, approve=False, reason="medical report missing"
    )
    assert Card.objects.get(pk=app.card_id).status == CardStatus.REJECTED


@pytest.mark.django_db
def test_extension_opens_30_days_before_expiry(hr, employer, person):
    card = active_card(hr, employer, person, valid_to=TODAY + timedelta(days=60))
    with pytest.raises(RuleError) as exc:
        services.card_extend_request(
            actor=hr, card_id=card.pk, new_valid_to=card.valid_to + timedelta(days=365)
        )
    assert exc.value.code == "extension_window_not_open"
    assert str(card.valid_to - timedelta(days=30)) in exc.value.message
    in_window = card.valid_to - timedelta(days=30)
    app = services.card_extend_request(
        actor=hr, card_id=card.pk, new_valid_to=card.valid_to + timedelta(days=365), today=in_window
    )
    old_token = card.tokens.get()
    services.application_decide(actor=AGENCY, application_id=app.pk, approve=True)
    card.refresh_from_db()
    assert card.valid_to == TODAY + timedelta(days=60 + 365)
    old_token.refresh_from_db()
    assert old_token.revoked_at is not None
    assert verify(old_token.text).result == "revoked"
    new_token = card.tokens.filter(revoked_at__isnull=True).get()
    assert verify(new_token.text).result == "valid"
    assert verify(new_token.text).claims.valid_to == card.valid_to


@pytest.mark.django_db
def test_change_updates_the_card_revokes_and_reissues(hr, employer, person):
    card = active_card(hr, employer, person)
    app = services.card_change_request(
        actor=hr,
        card_id=card.pk,
        changes={"position": "Chief Engineer", "category": "A"},
        change_date=TODAY - timedelta(days=3),
    )
    assert app.deadline == TODAY + timedelta(days=7)  # 10 days from the change
    assert not app.late
    services.application_decide(actor=AGENCY, application_id=app.pk, approve=True)
    card.refresh_from_db()
    assert (card.position, card.category) == ("Chief Engineer", "A")
    live = CardToken.objects.filter(card=card, revoked_at__isnull=True)
    assert live.count() == 1
    assert verify(live.get().text).claims.category == "A"
    assert CardToken.objects.filter(card=card, revoked_reason="changed").count() == 1


@pytest.mark.django_db
def test_a_late_change_is_flagged(hr, employer, person):
    card = active_card(hr, employer, person)
    app = services.card_change_request(
        actor=hr,
        card_id=card.pk,
        changes={"position": "Manager"},
        change_date=TODAY - timedelta(days=11),
    )
    assert app.late


@pytest.mark.django_db
def test_deregistration_ends_employment_and_refuses_everything_after(hr, employer, person):
    emp = Employment.objects.create(
        person=person,
        employer=employer,
        start_date=TODAY - timedelta(days=100),
        position="Engineer",
        contract_wage=3_000_000,
    )
    card = active_card(hr, employer, person)
    end = TODAY
    app = services.card_deregister_request(
        actor=hr, card_id=card.pk, reason="contract_ended", end_date=end
    )
    services.application_decide(actor=AGENCY, application_id=app.pk, approve=True)
    card.refresh_from_db()
    emp.refresh_from_db()
    assert card.status == CardStatus.DEREGISTERED
    assert emp.end_date == end
    assert all(t.revoked_at for t in card.tokens.all())
    with pytest.raises(Conflict):
        services.card_extend_request(
            actor=hr,
            card_id=card.pk,
            new_valid_to=card.valid_to + timedelta(days=30),
            today=card.valid_to,
        )
    with pytest.raises(Conflict):
        services.card_change_request(
            actor=hr, card_id=card.pk, changes={"position": "x"}, change_date=TODAY
        )


@pytest.mark.django_db
def test_expiry_without_extension_cancels_automatically(hr, employer, person):
    card = active_card(hr, employer, person, valid_to=TODAY + timedelta(days=5))
    report = services.cards_expire(actor=AGENCY, today=TODAY + timedelta(days=6))
    assert report.expired == 1
    card.refresh_from_db()
    assert card.status == CardStatus.EXPIRED
    assert verify(card.tokens.get().text).result == "revoked"


@pytest.mark.django_db
def test_only_one_open_application_and_only_agency_decides(hr, employer, person):
    card = active_card(hr, employer, person)
    app = services.card_change_request(
        actor=hr, card_id=card.pk, changes={"position": "Lead"}, change_date=TODAY
    )
    with pytest.raises(Conflict):
        services.card_change_request(
            actor=hr, card_id=card.pk, changes={"position": "Lead 2"}, change_date=TODAY
        )
    with pytest.raises(Forbidden):
        services.application_decide(actor=hr, application_id=app.pk, approve=True)
    services.application_decide(actor=AGENCY, application_id=app.pk, approve=True)
    with pytest.raises(Conflict):
        services.application_decide(
            actor=AGENCY, application_id=app.pk, approve=False, reason="late"
        )


@pytest.mark.django_db
def test_other_employers_hr_cannot_see_the_card(hr, employer, other_employer, person):
    card = active_card(hr, employer, person)
    stranger = Actor("hr", None, "other", employer_ids=frozenset({other_employer.pk}))
    with pytest.raises(NotFound):
        services.card_change_request(
            actor=stranger, card_id=card.pk, changes={"position": "x"}, change_date=TODAY
        )


@pytest.mark.django_db
def test_the_foreigner_files_only_when_the_employer_is_gone(hr, employer, person):
    card = active_card(hr, employer, person)
    me = Actor("employee", None, "me", person_id=person.pk)
    with pytest.raises(Forbidden):
        services.card_deregister_request(
            actor=me, card_id=card.pk, reason="employer_gone", end_date=TODAY
        )
    employer.dissolved_on = TODAY
    employer.save()
    app = services.card_deregister_request(
        actor=me, card_id=card.pk, reason="employer_gone", end_date=TODAY
    )
    assert app.filed_as == "foreigner"


@pytest.mark.django_db
def test_legacy_permit_is_valid_as_is_and_converts_on_first_extension(hr, employer, person):
    permit = "110000201700012345"
    card = services.legacy_permit_import(
        actor=AGENCY,
        permit=services.LegacyPermit(
            permit_number=permit,
            person=person,
            employer=employer,
            category="B",
            position="Teacher",
            valid_from=TODAY - timedelta(days=300),
            valid_to=TODAY + timedelta(days=20),
        ),
    )
    assert card.legacy and card.status == CardStatus.ACTIVE
    assert card.tokens.count() == 0  # a physical permit has no QR code until converted
    app = services.card_extend_request(
        actor=hr, card_id=card.pk, new_valid_to=TODAY + timedelta(days=385)
    )
    services.application_decide(actor=AGENCY, application_id=app.pk, approve=True)
    card.refresh_from_db()
    assert not card.legacy
    assert card.permit_number == permit  # same permit number for life
    assert card.card_number
    assert verify(card.tokens.get().text).result == "valid"
    assert PermitNumber.objects.get(person=person).number == permit


@pytest.mark.django_db
def test_permit_number_is_kept_for_life_across_cards(hr, employer, other_employer, person):
    first = active_card(hr, employer, person)
    app = services.card_deregister_request(
        actor=hr, card_id=first.pk, reason="contract_ended", end_date=TODAY
    )
    services.application_decide(actor=AGENCY, application_id=app.pk, approve=True)
    hr2 = Actor("hr", None, "hr2", employer_ids=frozenset({other_employer.pk}))
    app2 = services.card_apply(
        actor=hr2,
        employer=other_employer,
        person=person,
        category="B",
        position="Lead",
        valid_to=TODAY + timedelta(days=400),
    )
    services.application_decide(actor=AGENCY, application_id=app2.pk, approve=True)
    assert Card.objects.get(pk=app2.card_id).permit_number == first.permit_number


@pytest.mark.django_db
def test_a_second_live_card_is_refused(hr, employer, person):
    active_card(hr, employer, person)
    with pytest.raises(Conflict):
        services.card_apply(
            actor=hr,
            employer=employer,
            person=person,
            category="B",
            position="x",
            valid_to=TODAY + timedelta(days=100),
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_cannot_both_win(hr, employer, person):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are meaningful on PostgreSQL; SQLite serialises writers anyway")
    app = services.card_apply(
        actor=hr,
        employer=employer,
        person=person,
        category="B",
        position="Engineer",
        valid_to=TODAY + timedelta(days=365),
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(approve: bool) -> None:
        from django.db import connection as conn

        try:
            barrier.wait()
            services.application_decide(
                actor=AGENCY, application_id=app.pk, approve=approve, reason="no"
            )
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            conn.close()

    threads = [threading.Thread(target=decide, args=(flag,)) for flag in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    app.refresh_from_db()
    card = Card.objects.get(pk=app.card_id)
    expected = (
        CardStatus.NOTICE_ISSUED
        if app.status == ApplicationStatus.APPROVED
        else CardStatus.REJECTED
    )
    assert card.status == expected
    assert CardApplication.objects.filter(pk=app.pk).count() == 1
