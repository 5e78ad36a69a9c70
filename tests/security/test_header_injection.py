"""Line breaks in names and e-mail addresses: refused at every door, and harmless if already stored.

A name or address with CR/LF ends up in an e-mail header. Before the fix such values were stored;
accepting the registration then answered 500 after committing (the mail, sent inside the request,
failed on the bad header) and the daily job crashed on the first bad recipient, every day.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import transaction

from expatsi.cli import main
from expatsi.employers.models import Employer
from expatsi.notify.models import Notification
from expatsi.notify.services import notify_user
from expatsi.people.models import Person
from tests.api.conftest import API, USCC_NEW_SH, World, hire_payload
from tests.notify.factories import employer, hire, hr_user
from tests.portal.test_views import hire_post, logged_in

CRLF_NAME = "Okafor\r\nBcc: victim@example.org"
CRLF_EMAIL = "claire@example.org\r\nBcc: victim@example.org"
BAD_ADDRESS = "hr@example.org\r\nBcc: victim@example.org"


def _post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(API + path, body, content_type="application/json")


def _assert_refused(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["field"] == field
    assert body["message"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("family_name", CRLF_NAME),
        ("given_names", "Claire\nBcc: victim@example.org"),
        ("family_name", "Dubois\x00"),
        ("family_name", "Dubois\tClaire"),
        ("email", CRLF_EMAIL),
        ("email", "not-an-address"),
    ],
)
@pytest.mark.parametrize("path", ["/registrations/hire", "/employees"])
def test_api_refuses_control_characters_in_names_and_bad_emails(
    world: World, path: str, name: str, value: str
) -> None:
    body = hire_payload(world.a.pk)
    body["person"][name] = value
    people = Person.objects.count()
    r = _post(world.client("hr_a"), path, body)
    _assert_refused(r, 422, f"person.{name}")
    assert Person.objects.count() == people


def test_api_refuses_bad_hr_user_and_employer_contact_emails(world: World) -> None:
    hr = world.client("hr_a")
    users = User.objects.count()
    r = _post(hr, f"/employers/{world.a.pk}/hr-users", {"first_name": "New", "email": CRLF_EMAIL})
    _assert_refused(r, 422, "email")
    r = _post(
        hr,
        f"/employers/{world.a.pk}/hr-users",
        {"first_name": "new\r\nhr", "email": "a@example.org"},
    )
    _assert_refused(r, 422, "first_name")
    assert User.objects.count() == users
    r = _post(
        world.client("agency"),
        "/employers",
        {
            "name": "Acme",
            "uscc": USCC_NEW_SH,
            "region_code": "310000",
            "email": CRLF_EMAIL,
        },
    )
    _assert_refused(r, 422, "email")
    assert not Employer.objects.filter(name="Acme").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "value"),
    [("family_name", CRLF_NAME), ("given_names", "Chidi\rX"), ("email", CRLF_EMAIL)],
)
def test_portal_form_refuses_line_breaks_in_names_and_emails(name: str, value: str) -> None:
    from tests.portal.factories import make_employer, make_hr

    emp = make_employer()
    c = logged_in(make_hr(emp))
    r = c.post("/hires/new/", hire_post(emp, **{name: value}))
    assert r.status_code == 400
    assert f'id="id_{name}_error"' in r.content.decode()
    assert not Person.objects.exists()


def test_accepting_a_registration_survives_a_bad_address_and_name_on_file(
    world: World, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Values stored before validation existed (inserted directly): the decision stands, the inbox
    entries are made, the good addresses get their e-mail and the bad one is logged."""
    second = User.objects.create_user("hr-a-2", email="hr-a-2@example.org")
    world.a.hr_members.create(user=second)
    User.objects.filter(pk=world.users["hr_a"].pk).update(email=BAD_ADDRESS)
    Person.objects.filter(pk=world.pa.pk).update(family_name=CRLF_NAME)
    mail.outbox.clear()
    client = world.client("agency")
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        r = _post(client, f"/registrations/{world.ra.pk}/accept", {})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "accepted"
    notes = Notification.objects.filter(kind="registration_accepted")
    assert {n.user_id for n in notes} == {world.users["hr_a"].pk, second.pk}
    assert [m.to for m in mail.outbox] == [["hr-a-2@example.org"]]
    assert "\n" not in mail.outbox[0].subject and "OKAFOR" in mail.outbox[0].subject
    assert any("e-mail" in rec.getMessage() for rec in caplog.records)


@pytest.mark.django_db
def test_mail_goes_out_only_after_the_commit(django_capture_on_commit_callbacks: Any) -> None:
    user = User.objects.create_user("someone", email="someone@example.org")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        note = notify_user(
            user=user,
            kind="registration_due_soon",
            params={"person": "X", "deadline": "2026-06-20"},
        )
        assert mail.outbox == []  # not before the inbox entry is committed
    assert note is not None and mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["someone@example.org"]]


T = date(2026, 6, 15)


@pytest.mark.django_db(transaction=True)
def test_daily_job_goes_on_past_a_bad_recipient_and_reports_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad_employer = employer("110000", "Bad Address Co., Ltd.")
    good_employer = employer("310000", "Good Address Co., Ltd.")
    bad_hr = hr_user(bad_employer, "hr-bad")
    User.objects.filter(pk=bad_hr.pk).update(email=BAD_ADDRESS)
    hr_user(good_employer, "hr-good")
    for n in range(2):
        hire(bad_employer, permit_issued=T - timedelta(days=40 + n), family=f"Late{n}")
    late = hire(good_employer, permit_issued=T - timedelta(days=40), family="Elsewhere")
    Person.objects.filter(pk=late.person_id).update(family_name=CRLF_NAME)
    mail.outbox.clear()

    code = main(["jobs", "run-daily", "--today", T.isoformat(), "--json"])

    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    assert code == 1  # finished, with failures to look at
    assert result["sent_total"] == 3  # every inbox entry, the bad recipient's too
    assert result["emailed"] == 1
    assert result["failed"] == 2
    assert {(f["step"], f["user_id"]) for f in result["failures"]} == {("e-mail", bad_hr.pk)}
    assert [m.to for m in mail.outbox] == [["hr-good@example.invalid"]]
    assert "\n" not in mail.outbox[0].subject
    # the next run has nothing left to send, and fails nothing
    mail.outbox.clear()
    assert main(["jobs", "run-daily", "--today", T.isoformat(), "--json"]) == 0
    assert mail.outbox == []
