"""Two-step sign-in: agency staff (and superusers) need a code after the password, or must enrol an
authenticator first; HR and employees only once they turned it on. Codes are throttled, recovery
codes work once, the admin and session-authenticated API calls need a verified session too."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from expatsi.access import throttle
from expatsi.access.actors import actor_for_user
from expatsi.access.admin_site import VerifiedAdminSite
from expatsi.access.twofactor import key_from_base32
from expatsi.accounts.services import second_factor_reset
from expatsi.audit.models import AuditEvent
from expatsi.rules.errors import Forbidden
from tests.portal.factories import PASSWORD, make_agency, make_employer, make_hr, make_user
from tests.twofactor import code_at, current_code, enrol, verified_login, wrong_code

pytestmark = pytest.mark.django_db
VERIFY = "/login/verify/"
ENROL = "/account/two-step/"


def password_login(username: str, client: Client | None = None, *, lang: str = "") -> Client:
    client = client or Client()
    r = client.post(f"{lang}/login/", {"username": username, "password": PASSWORD})
    assert r.status_code == 302, "the password step failed"
    assert "_auth_user_id" in client.session
    return client


def send_code(client: Client, code: str, *, next_url: str = "/", lang: str = "") -> Any:
    return client.post(f"{lang}{VERIFY}", {"code": code, "next": next_url})


def errors(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def officer() -> Any:
    return make_agency("officer")  # with an authenticator (tests.twofactor.TEST_KEY)


@pytest.fixture
def no_device_backoff(settings: Any) -> None:
    """Only the 5-codes lock, without django-otp's per-device back-off (1, 2, 4… s), which would
    refuse the next code within a second of a wrong one (tested on its own below)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


# --- before the second step -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/registrations/", "/audit/", "/cards/", "/admin/", "/login/", "/zh-hans/"]
)
def test_after_the_password_an_agency_user_reaches_only_the_second_step(officer, path) -> None:
    client = password_login("officer")
    r = client.get(path)
    assert r.status_code == 302
    assert r["Location"].split("?")[0] in (VERIFY, f"/zh-hans{VERIFY}")


def test_the_first_page_after_the_password_asks_for_the_code_and_keeps_where_to_go(officer) -> None:
    client = Client()
    r = client.post("/login/", {"username": "officer", "password": PASSWORD, "next": "/audit/"})
    r = client.get(r["Location"])
    assert r.status_code == 302 and r["Location"] == f"{VERIFY}?next=%2Faudit%2F"
    page = client.get(r["Location"])
    assert page.status_code == 200
    assert "Enter your code" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")


def test_signing_out_and_switching_language_stay_possible(officer) -> None:
    client = password_login("officer")
    assert client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}).status_code == 302
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_api_refuses_an_unverified_agency_session_in_its_error_shape(officer) -> None:
    client = password_login("officer")
    r = client.get("/api/v1/employees")
    assert r.status_code == 403
    assert r.json() == {
        "code": "second_factor_required",
        "message": r.json()["message"],
        "field": "",
    }
    assert "two-step sign-in" in r.json()["message"]
    send_code(client, current_code(TOTPDevice.objects.get(user=officer)))
    assert client.get("/api/v1/employees").status_code == 200


def test_api_tokens_are_unaffected(world) -> None:
    assert world.client("token_a").get("/api/v1/employees").status_code == 200


def test_the_admin_itself_refuses_a_session_that_is_not_verified() -> None:
    """Behind the middleware, the admin site checks on its own (defence in depth)."""
    root = get_user_model().objects.create_superuser("root", "root@example.invalid", PASSWORD)
    request = RequestFactory().get("/admin/")
    request.user = root
    root.is_verified = lambda: False  # what OTPMiddleware installs
    assert VerifiedAdminSite().has_permission(request) is False
    root.is_verified = lambda: True
    assert VerifiedAdminSite().has_permission(request) is True


# --- the code -------------------------------------------------------------------------------------


def test_the_right_code_verifies_the_session(officer) -> None:
    client = password_login("officer")
    r = send_code(client, current_code(TOTPDevice.objects.get(user=officer)), next_url="/audit/")
    assert r.status_code == 302 and r["Location"] == "/audit/"
    assert client.get("/").status_code == 200
    assert client.get("/registrations/").status_code == 200


def test_a_superuser_signs_in_to_the_admin_with_a_code() -> None:
    root = get_user_model().objects.create_superuser("root", "root@example.invalid", PASSWORD)
    device = enrol(root)
    client = Client()
    r = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )
    assert r.status_code == 302
    r = client.get("/admin/")
    assert r.status_code == 302 and r["Location"].startswith(VERIFY)
    assert send_code(client, current_code(device), next_url="/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_an_offsite_next_is_not_followed(officer) -> None:
    client = password_login("officer")
    r = send_code(
        client, current_code(TOTPDevice.objects.get(user=officer)), next_url="https://evil.example/"
    )
    assert r["Location"] == "/"


def test_a_wrong_code_is_refused(officer, no_device_backoff) -> None:
    client = password_login("officer")
    r = send_code(client, wrong_code(TOTPDevice.objects.get(user=officer)))
    assert r.status_code == 200
    assert "This code is not correct" in errors(r)
    assert client.get("/").status_code == 302


def test_a_code_is_accepted_once(officer) -> None:
    device = TOTPDevice.objects.get(user=officer)
    code = current_code(device)
    assert send_code(password_login("officer"), code).status_code == 302
    again = password_login("officer")
    assert send_code(again, code).status_code == 200
    assert again.get("/").status_code == 302


def test_five_wrong_codes_lock_the_second_step_for_15_minutes(
    officer, no_device_backoff, monkeypatch
) -> None:
    device = TOTPDevice.objects.get(user=officer)
    client = password_login("officer")
    for _ in range(throttle.SECOND_STEP_MAX_FAILURES):
        assert "This code is not correct" in errors(send_code(client, wrong_code(device)))
    r = send_code(client, current_code(device))
    assert r.status_code == 200
    assert "Too many wrong codes" in errors(r)
    assert client.get("/").status_code == 302
    # the lock is the account's, from any other session or address
    other = password_login("officer", Client(REMOTE_ADDR="192.0.2.77"))
    assert "Too many wrong codes" in errors(send_code(other, current_code(device)))
    later = throttle._now() + throttle.LOCK_SECONDS + 1
    monkeypatch.setattr(throttle, "_now", lambda: later)
    assert send_code(client, current_code(device)).status_code == 302
    assert client.get("/").status_code == 200


def test_django_otp_backs_off_after_a_wrong_code(officer) -> None:
    """The per-device back-off is kept in the database: it holds across app servers."""
    device = TOTPDevice.objects.get(user=officer)
    client = password_login("officer")
    send_code(client, wrong_code(device))
    r = send_code(client, current_code(device))
    assert "Wait 1 second" in errors(r) or "Wait 2 seconds" in errors(r)
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=5)
    )
    assert send_code(client, current_code(device)).status_code == 302


def test_a_code_of_another_user_does_not_count(officer) -> None:
    other = make_agency("other-officer")
    TOTPDevice.objects.filter(user=other).update(key="ab" * 20)
    client = password_login("officer")
    r = send_code(client, current_code(TOTPDevice.objects.get(user=other)))
    assert r.status_code == 200


# --- enrolment ------------------------------------------------------------------------------------


def enrol_through_the_page(client: Client, *, lang: str = "") -> list[str]:
    """Read the key from the page (as a person types it into an app), answer with its code, return
    the recovery codes shown."""
    page = client.get(f"{lang}{ENROL}")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'src="data:image/svg+xml' in text  # the QR code, drawn here, allowed by the CSP
    secret = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', text)[1]
    device = TOTPDevice(key=key_from_base32(secret))
    r = client.post(f"{lang}{ENROL}", {"code": code_at(device), "next": "/"})
    assert r.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", r.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    return codes


def test_an_agency_user_without_an_authenticator_must_enrol_before_anything_else() -> None:
    user = make_user("new-officer")
    from expatsi.access.models import AgencyStaff

    AgencyStaff.objects.create(user=user)
    client = password_login("new-officer")
    for path in ("/", "/admin/", "/audit/", VERIFY):
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith(ENROL), path
    assert client.get("/api/v1/employees").json()["code"] == "second_factor_required"
    codes = enrol_through_the_page(client)
    assert client.get("/").status_code == 200  # verified by the enrolment
    assert TOTPDevice.objects.get(user=user).confirmed
    assert StaticToken.objects.filter(device__user=user).count() == 10
    event = AuditEvent.objects.get(action="access.second_factor_enrolled")
    assert event.object_id == str(user.pk)
    assert not any(c.replace("-", "") in str(event.detail) for c in codes)
    # next time: the code
    again = password_login("new-officer")
    assert again.get("/")["Location"].startswith(VERIFY)


def test_a_wrong_enrolment_code_confirms_nothing(no_device_backoff) -> None:
    user = make_user("new-officer")
    from expatsi.access.models import AgencyStaff

    AgencyStaff.objects.create(user=user)
    client = password_login("new-officer")
    secret = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', client.get(ENROL).content.decode())[1]
    device = TOTPDevice.objects.get(user=user)
    for _ in range(throttle.SECOND_STEP_MAX_FAILURES):
        r = client.post(ENROL, {"code": wrong_code(device)})
        assert r.status_code == 200 and "This code is not correct" in errors(r)
    assert not TOTPDevice.objects.get(user=user).confirmed
    assert throttle.second_step_check(user.pk) is None  # the user sees the key: nothing to guess
    assert f'id="otp-secret">{secret}<' in client.get(ENROL).content.decode()  # the same key
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_recovery_codes_work_once(no_device_backoff) -> None:
    user = make_user("new-officer")
    from expatsi.access.models import AgencyStaff

    AgencyStaff.objects.create(user=user)
    codes = enrol_through_the_page(password_login("new-officer"))
    client = password_login("new-officer")
    r = send_code(client, codes[3].upper())  # hyphen and case do not matter
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    assert "recovery code" in " ".join(m.message for m in r.wsgi_request._messages)
    used = AuditEvent.objects.get(action="access.recovery_code_used")
    assert used.detail["recovery_codes_left"] == 9
    again = password_login("new-officer")
    r = send_code(again, codes[3])
    assert "This recovery code is not valid, or it has been used already." in errors(r)
    assert again.get("/").status_code == 302
    assert send_code(again, codes[4].replace("-", "")).status_code == 302


# --- HR and employees -----------------------------------------------------------------------------


def test_hr_is_unaffected_until_they_turn_it_on(no_device_backoff) -> None:
    user = make_hr(make_employer())
    client = password_login("hr")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/employees").status_code == 200
    assert client.get(VERIFY).status_code == 302  # nothing to verify: on to the page
    enrol_through_the_page(client)  # opting in, from the account's page
    assert client.get("/").status_code == 200
    again = password_login("hr")
    assert again.get("/")["Location"].startswith(VERIFY)
    assert again.get("/api/v1/employees").json()["code"] == "second_factor_required"
    assert send_code(again, current_code(TOTPDevice.objects.get(user=user))).status_code == 302
    assert again.get("/").status_code == 200


def test_an_employee_without_a_second_factor_signs_in_with_the_password() -> None:
    make_user("someone")
    client = password_login("someone")
    assert client.get("/").status_code == 200
    page = client.get(ENROL)
    assert page.status_code == 200
    assert "Protect your account" in page.content.decode()


def test_hr_can_turn_it_off_with_a_code_and_agency_staff_can_only_replace_it(
    no_device_backoff,
) -> None:
    hr = make_hr(make_employer())
    device = enrol(hr)
    client = verified_login(Client(), hr)
    r = client.post(ENROL, {"action": "remove", "remove-code": wrong_code(device)})
    assert r.status_code == 200 and TOTPDevice.objects.filter(user=hr).exists()
    r = client.post(ENROL, {"action": "remove", "remove-code": current_code(device)})
    assert r.status_code == 302
    assert not TOTPDevice.objects.filter(user=hr).exists()
    assert client.get("/").status_code == 200  # no longer asked

    officer = make_agency("officer")
    agency = verified_login(Client(), officer)
    page = agency.get(ENROL).content.decode()
    assert "Set up a new authenticator" in page and "Turn off" not in page
    code = current_code(TOTPDevice.objects.get(user=officer))
    agency.post(ENROL, {"action": "remove", "remove-code": code})
    assert agency.get("/")["Location"].startswith(ENROL)  # enrol again before anything else
    assert AuditEvent.objects.filter(action="access.second_factor_reset").count() == 2


def test_new_recovery_codes_replace_the_old_ones(officer, no_device_backoff) -> None:
    client = verified_login(Client(), officer)
    first = client.post(
        ENROL,
        {"action": "codes", "codes-code": current_code(TOTPDevice.objects.get(user=officer))},
    )
    old = re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", first.content.decode())
    second = client.post(
        ENROL,
        {"action": "codes", "codes-code": current_code(TOTPDevice.objects.get(user=officer))},
    )
    new = re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", second.content.decode())
    assert len(old) == len(new) == 10 and not set(old) & set(new)
    assert second["Cache-Control"].startswith("max-age=0")
    assert StaticToken.objects.filter(device__user=officer).count() == 10
    r = send_code(password_login("officer"), old[0])
    assert r.status_code == 200


def test_nobody_resets_someone_elses_second_factor_from_a_web_session(officer) -> None:
    hr = make_hr(make_employer())
    with pytest.raises(Forbidden):
        second_factor_reset(actor=actor_for_user(officer), user=hr)


# --- both languages -------------------------------------------------------------------------------


def test_the_second_step_in_chinese(officer, no_device_backoff) -> None:
    client = password_login("officer", lang="/zh-hans")
    r = client.get("/zh-hans/")
    assert r["Location"].startswith(f"/zh-hans{VERIFY}")
    page = client.get(r["Location"]).content.decode()
    assert "输入验证码" in page and "Enter your code" not in page
    r = send_code(client, wrong_code(TOTPDevice.objects.get(user=officer)), lang="/zh-hans")
    assert "验证码不正确" in errors(r)


def test_enrolment_in_chinese() -> None:
    user = make_user("new-officer")
    from expatsi.access.models import AgencyStaff

    AgencyStaff.objects.create(user=user)
    client = password_login("new-officer", lang="/zh-hans")
    assert client.get("/zh-hans/")["Location"].startswith(f"/zh-hans{ENROL}")
    page = client.get(f"/zh-hans{ENROL}").content.decode()
    assert "两步登录" in page and "Two-step sign-in" not in page
    enrol_through_the_page(client, lang="/zh-hans")
