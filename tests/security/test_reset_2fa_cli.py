"""``expatsi access reset-2fa``: an administrator removes a lost authenticator, audited; the user is
then asked to enrol again, and a lock of the second step is lifted."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from expatsi.access import throttle
from expatsi.access.actors import actor_for_user
from expatsi.accounts.services import recovery_codes_renew
from expatsi.audit.models import AuditEvent
from expatsi.cli import main
from tests.portal.factories import make_agency
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


def test_reset_removes_the_second_factor_and_is_audited(capsys) -> None:
    officer = make_agency("officer")
    recovery_codes_renew(actor=actor_for_user(officer), user=officer)
    session = verified_login(Client(), officer)
    assert session.get("/").status_code == 200
    for _ in range(throttle.SECOND_STEP_MAX_FAILURES):
        throttle.second_step_failure(officer.pk)
    assert throttle.second_step_check(officer.pk) is not None

    assert main(["access", "reset-2fa", "officer", "--reason", "lost phone", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "username": "officer",
        "authenticators_removed": 1,
        "recovery_codes_removed": True,
        "must_enrol_again": True,
    }
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not StaticDevice.objects.filter(user=officer).exists()
    assert throttle.second_step_check(officer.pk) is None
    event = AuditEvent.objects.get(action="access.second_factor_reset")
    assert event.actor_kind == "system" and "reset-2fa" in event.actor_label
    assert event.object_id == str(officer.pk) and event.detail["reason"] == "lost phone"
    # the session verified by the removed authenticator no longer counts: enrol again
    assert session.get("/")["Location"].startswith("/account/two-step/")


def test_an_unknown_user_is_a_one_line_error(capsys) -> None:
    assert main(["access", "reset-2fa", "nobody"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no user named 'nobody'" in err
