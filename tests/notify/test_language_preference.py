import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from expatsi.notify.services import notify_user, user_language


@pytest.mark.django_db
def test_the_language_switch_is_remembered_for_messages():
    user = get_user_model().objects.create_user(
        "hr-lang", email="hr@example.invalid", password="pw-very-long-1"
    )
    assert user_language(user) == "en"
    client = Client()
    client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user_language(user) == "zh-hans"
    note = notify_user(
        user=user,
        kind="registration_overdue",
        params={"person": "X", "deadline": "2025-02-09", "days": 3},
    )
    assert note is not None
    assert note.language == "zh-hans"


@pytest.mark.django_db
def test_anonymous_switch_stores_nothing():
    client = Client()
    assert client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}).status_code == 302
    from expatsi.access.models import Profile

    assert Profile.objects.count() == 0
