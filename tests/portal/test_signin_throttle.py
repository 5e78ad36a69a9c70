import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from expatsi.access.throttle import PAIR_MAX_FAILURES as MAX_FAILURES


@pytest.mark.django_db
def test_repeated_failures_lock_the_user_name_from_that_address_even_with_the_right_password():
    get_user_model().objects.create_user("hr-x", password="a-long-password-1")
    client = Client()
    for _ in range(MAX_FAILURES):
        r = client.post("/login/", {"username": "hr-x", "password": "wrong"})
        assert r.status_code == 200
        assert "_auth_user_id" not in client.session
    r = client.post("/login/", {"username": "hr-x", "password": "a-long-password-1"})
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in r.content.decode()


@pytest.mark.django_db
def test_a_success_clears_the_count():
    get_user_model().objects.create_user("hr-y", password="a-long-password-1")
    client = Client()
    for _ in range(MAX_FAILURES - 1):
        client.post("/login/", {"username": "hr-y", "password": "wrong"})
    r = client.post("/login/", {"username": "hr-y", "password": "a-long-password-1"})
    assert r.status_code == 302
    client.logout()
    for _ in range(MAX_FAILURES - 1):
        client.post("/login/", {"username": "hr-y", "password": "wrong"})
    client.post("/login/", {"username": "hr-y", "password": "a-long-password-1"})
    assert "_auth_user_id" in client.session
