"""HR access is given only to new people, by invitation: the API never attaches an existing account
(of another employer, an employee, agency staff, or anyone) and never says whether a user name
exists or what its e-mail address is. The invitee chooses their own user name and password."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from expatsi.access.actors import actor_for_user
from expatsi.employers.models import HrInvitation, HrMembership
from expatsi.people.models import Person
from tests.portal.factories import (
    PASSWORD,
    make_agency,
    make_employee,
    make_employer,
    make_hire,
    make_hr,
)
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db

API = "/api/v1/employers"
User = get_user_model()


@pytest.fixture
def world() -> dict[str, Any]:
    a = make_employer(1, name="Alpha Beijing Co., Ltd.")
    b = make_employer(2, name="Bravo Beijing Co., Ltd.")
    hr_a, hr_b = make_hr(a, "hr-a"), make_hr(b, "hr-b")
    employee = make_employee(make_hire(b, hr_b, 1), "employee-b")
    agency = make_agency("officer")
    return {"a": a, "b": b, "hr_a": hr_a, "hr_b": hr_b, "employee": employee, "agency": agency}


def _client(user: Any) -> Client:
    c = Client()
    verified_login(c, user)
    return c


def _links(user: Any) -> tuple[Any, ...]:
    user = User.objects.get(pk=user.pk)
    return (
        user.email,
        user.password,
        sorted(HrMembership.objects.filter(user=user).values_list("employer_id", "active")),
        Person.objects.filter(user=user).values_list("pk", flat=True).first(),
        actor_for_user(user).kind,
    )


@pytest.mark.parametrize("victim", ["employee", "hr_b", "agency"])
@pytest.mark.parametrize("extra", [{}, {"email": "attacker@example.org"}])
def test_hr_cannot_grant_an_existing_account(world, victim, extra) -> None:
    target = world[victim]
    before = _links(target)
    r = _client(world["hr_a"]).post(
        f"{API}/{world['a'].pk}/hr-users",
        {"username": target.username, **extra},
        content_type="application/json",
    )
    assert 400 <= r.status_code < 500, r.content
    assert target.email not in r.content.decode()
    assert _links(target) == before
    assert not HrMembership.objects.filter(user=target, employer=world["a"]).exists()


def test_the_answer_is_the_same_for_a_taken_and_a_free_user_name(world) -> None:
    hr = _client(world["hr_a"])
    answers = []
    for name in (world["employee"].username, "nobody-has-this-name"):
        r = hr.post(
            f"{API}/{world['a'].pk}/hr-users",
            {"username": name, "email": "x@example.org"},
            content_type="application/json",
        )
        answers.append((r.status_code, r.json()["code"], r.json()["field"]))
    assert answers[0] == answers[1]


def _invite(client: Client, employer_id: int, **body: Any) -> Any:
    return client.post(
        f"{API}/{employer_id}/hr-users",
        {"email": "lin.wei@example.org", "first_name": "Wei", "last_name": "Lin", **body},
        content_type="application/json",
    )


def _link(message: Any) -> str:
    found = re.search(r"https?://[^/\s]+(/\S*/invitations/\S+/|/invitations/\S+/)", message.body)
    assert found, message.body
    return found[1]


def test_an_invitation_makes_a_new_account_chosen_by_the_invitee(
    world, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = _invite(_client(world["hr_a"]), world["a"].pk)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "invited" and body["email"] == "lin.wei@example.org"
    assert body["employer_id"] == world["a"].pk
    assert "token" not in body and "invitations/" not in r.content.decode()
    users_before = User.objects.count()
    [message] = mail.outbox
    assert message.to == ["lin.wei@example.org"] and world["a"].name in message.body
    link = _link(message)
    visitor = Client()
    assert visitor.get(link).status_code == 200
    taken = visitor.post(
        link, {"username": world["employee"].username, "password1": "x", "password2": "x"}
    )
    assert taken.status_code == 400 and world["employee"].email not in taken.text
    weak = visitor.post(link, {"username": "lin-wei", "password1": "123", "password2": "123"})
    assert weak.status_code == 400
    bad = visitor.post(
        link, {"username": "lin\r\nwei", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert bad.status_code == 400
    assert User.objects.count() == users_before
    done = visitor.post(link, {"username": "lin-wei", "password1": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302, done.content
    user = User.objects.get(username="lin-wei")
    assert (user.email, user.first_name, user.last_name) == ("lin.wei@example.org", "Wei", "Lin")
    assert actor_for_user(user).employer_ids == frozenset({world["a"].pk})
    assert Client().login(username="lin-wei", password=PASSWORD)
    assert Client().get(link).status_code == 404  # once only
    invitation = HrInvitation.objects.get()
    assert invitation.user_id == user.pk and invitation.accepted_at is not None


def test_an_expired_invitation_is_refused(world, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert _invite(_client(world["agency"]), world["a"].pk).status_code == 201
    HrInvitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    link = _link(mail.outbox[0])
    r = Client().post(link, {"username": "late", "password1": PASSWORD, "password2": PASSWORD})
    assert r.status_code == 404
    assert not User.objects.filter(username="late").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-address"),
        ("email", "a@example.org\r\nBcc: victim@example.org"),
        ("email", "x" * 250 + "@example.org"),
        ("email", ""),
        ("first_name", "Wei\r\nBcc: victim@example.org"),
        ("first_name", "W" * 151),
        ("last_name", "Lin\x00"),
        ("last_name", "L" * 151),
    ],
)
def test_invitation_fields_are_validated(world, field, value) -> None:
    r = _invite(_client(world["hr_a"]), world["a"].pk, **{field: value})
    assert r.status_code in (400, 422), r.content
    assert r.json()["field"] == field
    assert not HrInvitation.objects.exists()
    assert not mail.outbox


def test_other_employers_hr_and_api_tokens_may_not_invite(world) -> None:
    assert _invite(_client(world["hr_b"]), world["a"].pk).status_code == 404
    assert _invite(_client(world["employee"]), world["a"].pk).status_code in (403, 404)
    assert not HrInvitation.objects.exists()


def test_an_invitation_in_chinese(world, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = _invite(_client(world["hr_a"]), world["a"].pk, language="zh-hans")
    assert r.status_code == 201 and r.json()["language"] == "zh-hans"
    [message] = mail.outbox
    assert "邀请您" in message.body and world["a"].name in message.subject
    link = _link(message)
    assert link.startswith("/zh-hans/invitations/")
    page = Client().get(link)
    assert page.status_code == 200 and "创建我的账户" in page.text
    assert page["Referrer-Policy"] == "same-origin"  # no referrer to other sites
    bad = _invite(_client(world["hr_a"]), world["a"].pk, language="fr")
    assert bad.status_code == 400 and bad.json()["field"] == "language"
