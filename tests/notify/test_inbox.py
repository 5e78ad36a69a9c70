"""The inbox page: login required, only one's own messages, unread first, mark read."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from expatsi.notify.models import Notification
from expatsi.notify.services import notify_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return User.objects.create_user("alice", "alice@example.invalid")


@pytest.fixture
def bob():
    return User.objects.create_user("bob", "bob@example.invalid")


def note(user, person, key):
    return notify_user(
        user=user,
        kind="registration_due_soon",
        params={"person": person, "deadline": "2026-06-20"},
        dedupe_key=key,
    )


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_login_is_required():
    r = Client().get(reverse("notify:inbox"))
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("login"))
    assert Client().post(reverse("notify:read_all")).status_code == 302


def test_lists_only_the_users_own_messages_unread_first(alice, bob):
    first = note(alice, "FIRST Person", "a")
    note(alice, "SECOND Person", "b")
    note(bob, "BOBS Person", "c")
    Notification.objects.filter(pk=first.pk).update(read_at=first.created_at)
    page = logged_in(alice).get(reverse("notify:inbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "BOBS" not in html
    assert html.index("SECOND Person") < html.index("FIRST Person")  # unread first
    assert "You have 1 unread message." in html


def test_mark_read_and_mark_all(alice, bob):
    a1, a2 = note(alice, "ONE", "a1"), note(alice, "TWO", "a2")
    b1 = note(bob, "BOB", "b1")
    client = logged_in(alice)
    r = client.post(reverse("notify:read", args=[a1.pk]))
    assert r.status_code == 302
    a1.refresh_from_db()
    assert a1.read_at is not None
    # htmx gets the row back
    r = client.post(reverse("notify:read", args=[a2.pk]), headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert f'id="note-{a2.pk}"' in r.content.decode()
    # another user's message is not found, and stays unread
    assert client.post(reverse("notify:read", args=[b1.pk])).status_code == 404
    b1.refresh_from_db()
    assert b1.read_at is None
    # reading is POST only
    assert client.get(reverse("notify:read", args=[a1.pk])).status_code == 405
    note(alice, "THREE", "a3")
    client.post(reverse("notify:read_all"))
    assert not Notification.objects.filter(user=alice, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=bob, read_at__isnull=True).count() == 1


def test_inbox_in_chinese(alice):
    note(alice, "ONE", "z1")
    with translation.override("en"):  # the request activates Chinese; do not let it leak
        r = logged_in(alice).get("/zh-hans/inbox/")
    assert r.status_code == 200
    assert 'lang="zh-Hans"' in r.content.decode()


def test_pagination(alice):
    for i in range(30):
        note(alice, f"P{i}", f"p{i}")
    client = logged_in(alice)
    first = client.get(reverse("notify:inbox")).content.decode()
    second = client.get(reverse("notify:inbox"), {"page": 2}).content.decode()
    assert first.count('class="unread"') == 25
    assert second.count('class="unread"') == 5
