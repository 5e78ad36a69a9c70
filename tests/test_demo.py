"""demo_setup: a realistic data set, loaded once (running it again adds nothing), every login works."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from expatsi.access.actors import actor_for_user
from expatsi.access.twofactor import key_from_base32
from expatsi.audit.models import AuditEvent
from expatsi.audit.services import audit_verify
from expatsi.demo.data import DEMO_TOTP_SECRET, demo_load
from expatsi.employers.models import Employer, EmployerKind
from expatsi.insurance.models import CoverageCertificate, Registration, RegistrationStatus
from expatsi.insurance.selectors import registration_deadline_status
from expatsi.notify.models import Notification
from expatsi.people.models import Document, DocumentKind, Person
from expatsi.rules.identifiers import check_id
from tests.twofactor import code_at

pytestmark = pytest.mark.django_db
DEMO_PASSWORD = django_settings.EXPATSI_DEMO_PASSWORD


def counts():
    return {
        m.__name__: m.objects.count()
        for m in (
            Employer,
            Person,
            Document,
            Registration,
            CoverageCertificate,
            AuditEvent,
            Notification,
            User,
        )
    }


def test_demo_setup_loads_once_and_every_login_works():
    out = StringIO()
    call_command("demo_setup", stdout=out)
    first = counts()
    text = out.getvalue()
    call_command("demo_setup", stdout=StringIO())
    assert counts() == first

    # the data set
    employers = list(Employer.objects.all())
    assert len(employers) >= 3
    assert {e.region_code for e in employers} == {"110000", "310000"}
    assert all(check_id(e.uscc, "uscc").valid for e in employers)
    office = next(e for e in employers if e.kind == EmployerKind.REPRESENTATIVE_OFFICE)
    assert office.overseas_company and office.overseas_country == "DEU"
    assert Person.objects.count() == 200
    nationalities = set(Person.objects.values_list("nationality", flat=True))
    assert len(nationalities) >= 10 and {"DEU", "JPN", "KOR", "FRA"} <= nationalities
    assert Document.objects.filter(kind=DocumentKind.RESIDENCE_PERMIT).count() >= 190
    assert (
        Document.objects.filter(
            kind__in=[DocumentKind.INTEGRATED_CARD, DocumentKind.WORK_PERMIT]
        ).count()
        >= 200
    )
    regs = list(Registration.objects.select_related("person"))
    accepted = [r for r in regs if r.status == RegistrationStatus.ACCEPTED]
    assert len(accepted) > len(regs) / 2
    assert all(check_id(r.person.ssn or "", "foreigner_ssn").valid for r in accepted)
    statuses = {registration_deadline_status(r).status for r in regs}
    assert {"overdue", "due_soon", "on_time", "registered_on_time", "registered_late"} <= statuses
    assert CoverageCertificate.objects.exists()
    assert audit_verify() == (True, None)
    assert Notification.objects.filter(kind="registration_overdue").exists()

    # the logins, printed with the password, each with its role
    assert DEMO_PASSWORD in text
    expected = {
        "agency-admin": "agency",
        "agency-officer": "agency",
        "agency-shanghai": "agency",
        "hr-jingcheng": "hr",
        "hr-rheinland": "hr",
        "hr-pujiang": "hr",
        "hr-hanbit": "hr",
        "employee-1": "employee",
        "employee-2": "employee",
    }
    # the agency logins' second step: the published demo key, printed with the logins
    assert DEMO_TOTP_SECRET in text
    demo_device = TOTPDevice(key=key_from_base32(DEMO_TOTP_SECRET))
    for username, kind in expected.items():
        assert username in text
        client = Client()
        assert client.login(username=username, password=DEMO_PASSWORD), username
        user = User.objects.get(username=username)
        assert actor_for_user(user).kind == kind
        if kind == "agency":
            assert client.get("/")["Location"].startswith("/login/verify/")
            code = code_at(demo_device)
            assert client.post("/login/verify/", {"code": code}).status_code == 302, username
        page = client.get("/", follow=True)
        assert page.status_code == 200 and page.wsgi_request.path != "/login/verify/"
    shanghai = actor_for_user(User.objects.get(username="agency-shanghai"))
    assert shanghai.regions == frozenset({"310000"})
    assert actor_for_user(User.objects.get(username="agency-officer")).regions is None


def test_the_demo_authenticator_key_can_be_chosen_and_a_bad_one_stops_the_setup(settings):
    settings.EXPATSI_DEMO_TOTP_SECRET = "not base32!"  # from the environment variable of that name
    with pytest.raises(CommandError, match="EXPATSI_DEMO_TOTP_SECRET: use base32"):
        call_command("demo_setup", stdout=StringIO())
    assert not User.objects.exists()
    demo_load(password=DEMO_PASSWORD, people=5, totp_secret="JBSWY3DPEHPK3PXPJBSWY3DP")
    device = TOTPDevice.objects.get(user__username="agency-officer")
    assert device.confirmed and device.key == key_from_base32("JBSWY3DPEHPK3PXPJBSWY3DP")
    assert not TOTPDevice.objects.filter(user__username__startswith="hr-").exists()


def test_the_demo_fills_the_death_pension_and_programme_pages(django_capture_on_commit_callbacks):
    """A reported death with the heirs' claim awaiting the shares, an awarded pension paid abroad
    with the proof of life due within a month, a programme application awaiting review — and the
    agency's pages and the pensioner's page show them."""
    from datetime import timedelta

    from django.utils import timezone

    from expatsi.benefits.models import (
        ClaimStatus,
        InheritanceClaim,
        Pension,
        PensionStatus,
        ProgrammeApplication,
        ProgrammeStatus,
    )
    from expatsi.benefits.programmes import programmes

    with django_capture_on_commit_callbacks(execute=True):  # the inbox is filled after commit
        call_command("demo_setup", stdout=StringIO())
    today = timezone.localdate()
    claim = InheritanceClaim.objects.select_related("death__person").get()
    assert claim.status == ClaimStatus.SUBMITTED and claim.heirs.count() == 2
    pension = Pension.objects.select_related("person__user", "bank_account").get()
    assert pension.status == PensionStatus.AWARDED and pension.bank_account.country != "CHN"
    assert pension.proof_due is not None
    assert today < pension.proof_due <= today + timedelta(days=30)
    assert pension.person.user is not None and pension.person.user.username == "employee-pensioner"
    assert Notification.objects.filter(user=pension.person.user, kind="proof_of_life_due").exists()
    if any(p.open_on(today) for p in programmes().values()):  # the shipped programmes are dated
        app = ProgrammeApplication.objects.get()
        assert app.status == ProgrammeStatus.SUBMITTED

    officer = Client()
    assert officer.login(username="agency-officer", password=DEMO_PASSWORD)
    demo_device = TOTPDevice(key=key_from_base32(DEMO_TOTP_SECRET))
    assert officer.post("/login/verify/", {"code": code_at(demo_device)}).status_code == 302
    deaths_page = officer.get("/benefits/deaths/")
    assert deaths_page.status_code == 200
    assert claim.death.person.family_name in deaths_page.content.decode()
    if ProgrammeApplication.objects.exists():
        queue = officer.get("/benefits/programme-applications/").content.decode()
        assert ProgrammeApplication.objects.get().person.full_name in queue
    pensioner = Client()
    assert pensioner.login(username="employee-pensioner", password=DEMO_PASSWORD)
    page = pensioner.get(f"/benefits/pensions/{pension.pk}/")
    assert page.status_code == 200 and str(pension.proof_due.year) in page.content.decode()
