"""notify/permissions.py: a notification is read and marked read by its own user only, whatever
their role; an actor without an account has no inbox."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from expatsi.access.actors import SYSTEM, Actor
from expatsi.notify import selectors, services
from expatsi.notify.services import notify_user
from expatsi.rules.errors import NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes():
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    params = {"person": "X", "deadline": "2026-06-20"}
    mine = notify_user(user=alice, kind="registration_due_soon", params=params, dedupe_key="a")
    theirs = notify_user(user=bob, kind="registration_due_soon", params=params, dedupe_key="b")
    return alice, mine, theirs


@pytest.mark.parametrize("kind", ["agency", "hr", "employee", "public"])
def test_each_user_reads_their_own_notifications_only(notes, kind):
    alice, mine, theirs = notes
    actor = Actor(kind, alice.pk, "alice")  # the role makes no difference
    assert list(selectors.inbox(actor=actor)) == [mine]
    assert selectors.unread_count(actor=actor) == 1
    assert selectors.notification_get(actor=actor, notification_id=mine.pk) == mine
    with pytest.raises(NotFound):
        selectors.notification_get(actor=actor, notification_id=theirs.pk)
    with pytest.raises(NotFound):
        services.notification_mark_read(actor=actor, notification_id=theirs.pk)
    assert services.notifications_mark_all_read(actor=actor) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "actor",
    [SYSTEM, Actor("hr", None, "token", employer_ids=frozenset({1}), via="token")],
    ids=["system", "api_token"],
)
def test_an_actor_without_an_account_has_no_inbox(notes, actor):
    assert not selectors.inbox(actor=actor).exists()
    assert services.notifications_mark_all_read(actor=actor) == 0
