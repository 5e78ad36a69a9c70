"""Writes for employers (employers/services.py): registering an employer, its work-injury rating
over time, HR invitations and API tokens, called as the pages and the API call them. The HTTP side
of invitations is in tests/security/test_hr_users.py, of tokens in
tests/api/test_idempotency_and_tokens.py."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from expatsi.access.actors import SYSTEM, Actor, actor_for_token, actor_for_user
from expatsi.audit.models import AuditEvent
from expatsi.employers import services
from expatsi.employers.models import ApiToken, Employer, HrInvitation, HrMembership
from expatsi.employers.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    employer_create,
    hr_invitation_accept,
    hr_invitation_open,
    hr_invite,
    work_injury_rate_on,
    work_injury_rating_set,
)
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from tests.factories import (
    AgencyStaffFactory,
    EmployerFactory,
    HrMembershipFactory,
    UserFactory,
    uscc_for,
)

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-horse-battery-9"


def agency(region: str) -> Actor:
    """An officer of one region (a real user: invitations and tokens record who made them)."""
    return actor_for_user(AgencyStaffFactory(regions=region).user)


def hr_of(employer: Employer, *, via: str = "portal") -> Actor:
    return actor_for_user(HrMembershipFactory(employer=employer).user, via=via)


# --- registering an employer ----------------------------------------------------------------------


def test_agency_staff_register_an_employer_of_their_region() -> None:
    code = uscc_for("110000", 1)
    employer = employer_create(
        actor=agency("110000"),
        name="  Rhine Precision (Beijing) Co., Ltd. ",
        uscc=code.lower(),
        region_code="110000",
        name_zh=" 莱茵精密（北京）有限公司 ",
        overseas_company="ignored for a domestic employer",
        overseas_country="DEU",
    )
    assert (employer.name, employer.uscc, employer.name_zh) == (
        "Rhine Precision (Beijing) Co., Ltd.",
        code,
        "莱茵精密（北京）有限公司",
    )
    assert (employer.overseas_company, employer.overseas_country) == ("", "")
    event = AuditEvent.objects.get(action="employer.create")
    assert event.object_id == str(employer.pk) and event.detail == {"uscc": code}


@pytest.mark.parametrize(
    "actor",
    [
        Actor("agency", None, "officer-sh", regions=frozenset({"310000"})),
        Actor("hr", None, "hr", employer_ids=frozenset({1})),
        Actor("employee", None, "e", person_id=1),
    ],
    ids=["agency of Shanghai", "hr", "employee"],
)
def test_nobody_else_registers_an_employer_in_beijing(actor: Actor) -> None:
    with pytest.raises(Forbidden):
        employer_create(actor=actor, name="X", uscc=uscc_for("110000", 1), region_code="110000")
    assert not Employer.objects.exists()


def test_a_branch_or_representative_office_names_its_overseas_company() -> None:
    for kind in ("branch", "representative_office"):
        with pytest.raises(RuleError) as exc:
            employer_create(
                actor=SYSTEM, name="X", uscc=uscc_for("310000", 1), region_code="310000", kind=kind
            )
        assert exc.value.field == "overseas_company"
    with pytest.raises(RuleError) as country:
        employer_create(
            actor=SYSTEM,
            name="X",
            uscc=uscc_for("310000", 1),
            region_code="310000",
            kind="branch",
            overseas_company="Parent AG",
            overseas_country="Germany",
        )
    assert country.value.field == "overseas_country"
    office = employer_create(
        actor=SYSTEM,
        name="Parent AG Shanghai Representative Office",
        uscc=uscc_for("310000", 1),
        region_code="310000",
        kind="representative_office",
        overseas_company="Parent AG",
        overseas_country="deu",
    )
    assert (office.overseas_company, office.overseas_country) == ("Parent AG", "DEU")


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"uscc": "91110000600037341A"}, "uscc", "invalid_uscc"),
        ({"region_code": "440000"}, "region_code", "unknown_region"),
        ({"name": " "}, "name", "required"),
        ({"kind": "ngo"}, "kind", "invalid_kind"),
    ],
)
def test_bad_employer_input_names_its_field(kwargs: dict, field: str, code: str) -> None:
    values = {"name": "X", "uscc": uscc_for("110000", 1), "region_code": "110000"} | kwargs
    with pytest.raises(RuleError) as exc:
        employer_create(actor=SYSTEM, **values)
    assert (exc.value.field, exc.value.code) == (field, code)


def test_a_uscc_is_registered_once() -> None:
    EmployerFactory(uscc="91110000600037341L")
    with pytest.raises(Conflict) as exc:
        employer_create(actor=SYSTEM, name="Y", uscc="91110000600037341l", region_code="110000")
    assert (exc.value.code, exc.value.field) == ("duplicate_uscc", "uscc")
    assert Employer.objects.count() == 1 and not AuditEvent.objects.exists()


# --- work-injury rating ---------------------------------------------------------------------------


def test_a_new_rating_closes_the_previous_one_the_day_before_and_history_stays() -> None:
    employer = EmployerFactory(region_code="310000")
    first = work_injury_rating_set(
        actor=agency("310000"),
        employer=employer,
        industry_class="i",
        grade="100%",
        effective_from=date(2025, 1, 1),
    )
    assert (first.industry_class, first.rate_ppm) == ("I", 1_600)  # 0.2 % × Shanghai's 80 %
    second = work_injury_rating_set(
        actor=agency("310000"),
        employer=employer,
        industry_class="I",
        grade="150%",
        effective_from=date(2025, 7, 1),
    )
    first.refresh_from_db()
    assert first.effective_to == date(2025, 6, 30) and second.effective_to is None
    assert work_injury_rate_on(employer, date(2025, 6, 30)) == 1_600
    assert work_injury_rate_on(employer, date(2025, 7, 1)) == second.rate_ppm == 2_400
    assert work_injury_rate_on(employer, date(2024, 12, 31)) is None


def test_a_rating_must_start_after_the_current_one_and_only_its_regions_agency_sets_it() -> None:
    employer = EmployerFactory(region_code="310000")
    work_injury_rating_set(
        actor=SYSTEM,
        employer=employer,
        industry_class="I",
        grade="100%",
        effective_from=date(2025, 1, 1),
    )
    with pytest.raises(RuleError) as exc:
        work_injury_rating_set(
            actor=SYSTEM,
            employer=employer,
            industry_class="I",
            grade="100%",
            effective_from=date(2025, 1, 1),
        )
    assert (exc.value.code, exc.value.field) == ("not_after_current", "effective_from")
    with pytest.raises(Forbidden):
        work_injury_rating_set(
            actor=agency("110000"),
            employer=employer,
            industry_class="I",
            grade="100%",
            effective_from=date(2026, 1, 1),
        )
    assert employer.work_injury_ratings.count() == 1


# --- HR invitations -------------------------------------------------------------------------------


@pytest.fixture
def invited(monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks):
    """An invitation to employer A sent by its signed-in HR, and the token in its e-mail."""
    employer = EmployerFactory(name="Alpha Beijing Co., Ltd.")
    inviter = HrMembershipFactory(employer=employer).user
    monkeypatch.setattr(services.secrets, "token_urlsafe", lambda n: "the-token-in-the-email")
    with django_capture_on_commit_callbacks(execute=True):
        invitation = hr_invite(
            actor=actor_for_user(inviter),
            employer=employer,
            email="lin.wei@example.org",
            first_name="Wei",
            last_name="Lin",
            language="zh",
            site="https://expatsi.example",
        )
    return invitation, "the-token-in-the-email"


def test_the_token_is_only_in_the_email_and_the_database_keeps_its_digest(invited) -> None:
    invitation, token = invited
    assert invitation.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(HrInvitation.objects.values().get())
    [message] = mail.outbox
    assert f"https://expatsi.example/zh-hans/invitations/{token}/" in message.body
    assert invitation.language == "zh-hans"  # "zh" means the Chinese pages
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    assert AuditEvent.objects.get(action="employer.hr_invite").detail == {
        "invitation": invitation.pk
    }
    assert token not in str(list(AuditEvent.objects.values("detail")))


def test_accepting_makes_a_new_hr_account_once(invited) -> None:
    invitation, token = invited
    assert hr_invitation_open(token) == invitation
    user = hr_invitation_accept(
        token=token, username="lin-wei", password=PASSWORD, ip="198.51.100.7"
    )
    assert (user.email, user.first_name, user.last_name) == ("lin.wei@example.org", "Wei", "Lin")
    assert HrMembership.objects.get(user=user).employer_id == invitation.employer_id
    assert user.check_password(PASSWORD)
    assert hr_invitation_open(token) is None
    with pytest.raises(NotFound):
        hr_invitation_accept(token=token, username="lin-wei-2", password=PASSWORD)
    event = AuditEvent.objects.get(action="employer.hr_add")
    assert (event.actor_user_id, event.ip) == (user.pk, "198.51.100.7")


def test_a_user_name_taken_in_any_case_or_a_weak_password_makes_nothing(invited) -> None:
    _invitation, token = invited
    UserFactory(username="Lin-Wei")
    with pytest.raises(Conflict) as taken:
        hr_invitation_accept(token=token, username="lin-wei", password=PASSWORD)
    assert (taken.value.code, taken.value.field) == ("username_unavailable", "username")
    with pytest.raises(RuleError) as weak:
        hr_invitation_accept(token=token, username="lin-wei-2", password="12345678")
    assert (weak.value.code, weak.value.field) == ("weak_password", "password1")
    with pytest.raises(RuleError) as spaces:
        hr_invitation_accept(token=token, username="lin wei", password=PASSWORD)
    assert spaces.value.code == "invalid_username"
    assert hr_invitation_open(token) is not None  # still usable
    assert HrMembership.objects.count() == 1  # the inviter's alone


def test_unknown_expired_or_absurd_tokens_open_nothing(invited) -> None:
    _invitation, token = invited
    assert hr_invitation_open("") is None and hr_invitation_open("x" * 101) is None
    assert hr_invitation_open("not-the-token") is None
    HrInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert hr_invitation_open(token) is None


def test_an_invitation_stands_when_the_mail_server_is_down(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    employer = EmployerFactory()

    def down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(services, "send_mail", down)
    with django_capture_on_commit_callbacks(execute=True):
        hr_invite(actor=SYSTEM, employer=employer, email="lin.wei@example.org")
    assert HrInvitation.objects.filter(employer=employer).count() == 1


def test_api_tokens_other_regions_and_employees_may_not_invite() -> None:
    employer = EmployerFactory(region_code="110000")
    for actor in (
        hr_of(employer, via="token"),
        agency("310000"),
        Actor("employee", 4, "e", person_id=1),
        hr_of(EmployerFactory()),
    ):
        with pytest.raises(Forbidden):
            hr_invite(actor=actor, employer=employer, email="lin.wei@example.org")
    hr_invite(actor=agency("110000"), employer=employer, email="lin.wei@example.org")
    assert HrInvitation.objects.count() == 1


# --- API tokens -----------------------------------------------------------------------------------


def test_a_token_works_until_revoked_and_records_its_last_use() -> None:
    employer = EmployerFactory()
    token, secret = api_token_create(actor=hr_of(employer), employer_id=employer.pk, name="Payroll")
    assert secret.startswith(f"exp_{token.prefix}_") and token.digest not in secret
    found = api_token_authenticate(secret)
    assert found == token
    found.refresh_from_db()
    assert found.last_used_at is not None
    assert actor_for_token(found).employer_ids == frozenset({employer.pk})
    assert api_token_authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert api_token_authenticate(secret.removeprefix("exp_")) is None
    revoked = api_token_revoke(actor=hr_of(employer), token_id=token.pk)
    when = revoked.revoked_at
    assert api_token_authenticate(secret) is None
    assert api_token_revoke(actor=hr_of(employer), token_id=token.pk).revoked_at == when
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_a_token_cannot_make_tokens_and_other_tenants_cannot_touch_them() -> None:
    employer = EmployerFactory(region_code="110000")
    token, _secret = api_token_create(actor=SYSTEM, employer_id=employer.pk, name="HR system")
    with pytest.raises(Forbidden):
        api_token_create(actor=actor_for_token(token), employer_id=employer.pk, name="another")
    other = EmployerFactory(region_code="110000")
    with pytest.raises(NotFound):
        api_token_create(actor=hr_of(other), employer_id=employer.pk, name="theirs")
    for outsider in (hr_of(other), agency("310000")):
        with pytest.raises(NotFound):
            api_token_revoke(actor=outsider, token_id=token.pk)
    with pytest.raises(RuleError) as exc:
        api_token_create(actor=agency("110000"), employer_id=employer.pk, name="x" * 101)
    assert exc.value.field == "name"
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1
