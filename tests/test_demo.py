"""demo_setup: a realistic data set, loaded once (running it again adds nothing), every login works."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from expatsi.access.actors import actor_for_user
from expatsi.audit.models import AuditEvent
from expatsi.audit.services import audit_verify
from expatsi.employers.models import Employer, EmployerKind
from expatsi.insurance.models import CoverageCertificate, Registration, RegistrationStatus
from expatsi.insurance.selectors import registration_deadline_status
from expatsi.notify.models import Notification
from expatsi.people.models import Document, DocumentKind, Person
from expatsi.portal.management.commands.demo_setup import DEMO_PASSWORD
from expatsi.rules.identifiers import check_id

pytestmark = pytest.mark.django_db


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
    for username, kind in expected.items():
        assert username in text
        client = Client()
        assert client.login(username=username, password=DEMO_PASSWORD), username
        user = User.objects.get(username=username)
        assert actor_for_user(user).kind == kind
        assert client.get("/", follow=True).status_code == 200
    shanghai = actor_for_user(User.objects.get(username="agency-shanghai"))
    assert shanghai.regions == frozenset({"310000"})
    assert actor_for_user(User.objects.get(username="agency-officer")).regions is None
