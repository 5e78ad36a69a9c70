"""Second-factor writes (access/services.py) called as the pages call them: the confirmed
authenticator becomes the only one, ten fresh recovery codes are handed out once and never written
to the audit trail, and only the user themself (or the system) may change their second factor.
The sign-in pages around them are tested in tests/security/test_two_factor.py."""

from __future__ import annotations

import json
import re

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from expatsi.access.actors import SYSTEM, actor_for_user
from expatsi.accounts.services import (
    recovery_codes_renew,
    second_factor_confirm,
    second_factor_reset,
)
from expatsi.audit.models import AuditEvent
from expatsi.rules.errors import Forbidden
from tests.factories import AgencyStaffFactory, UserFactory

pytestmark = pytest.mark.django_db

RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")


def test_confirming_an_authenticator_replaces_any_other_and_hands_out_ten_codes_once() -> None:
    user = UserFactory()
    old = TOTPDevice.objects.create(user=user, name="old phone", confirmed=True)
    new = TOTPDevice.objects.create(user=user, name="new phone", confirmed=False)
    codes = second_factor_confirm(actor=actor_for_user(user), user=user, device=new)
    assert len(set(codes)) == 10 and all(RECOVERY_CODE.fullmatch(c) for c in codes)
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == [
        (new.pk, True)
    ]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    ) == (codes)
    event = AuditEvent.objects.get(action="access.second_factor_enrolled")
    assert event.object_id == str(user.pk) and event.detail["recovery_codes"] == 10


def test_renewed_codes_replace_the_old_ones_and_no_code_reaches_the_audit_trail() -> None:
    user = UserFactory()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=False)
    first = second_factor_confirm(actor=actor_for_user(user), user=user, device=device)
    second = recovery_codes_renew(actor=actor_for_user(user), user=user)
    assert not set(first) & set(second)
    tokens = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert tokens == set(second)
    trail = json.dumps(list(AuditEvent.objects.values("detail", "object_id", "actor_label")))
    assert not [c for c in first + second if c in trail]


def test_nobody_confirms_or_renews_for_someone_else() -> None:
    user, other = UserFactory(), UserFactory()
    officer = AgencyStaffFactory().user
    foreign = TOTPDevice.objects.create(user=other, name="theirs", confirmed=False)
    with pytest.raises(Forbidden):
        second_factor_confirm(actor=actor_for_user(user), user=user, device=foreign)
    mine = TOTPDevice.objects.create(user=user, name="mine", confirmed=False)
    with pytest.raises(Forbidden):
        second_factor_confirm(actor=actor_for_user(officer), user=user, device=mine)
    with pytest.raises(Forbidden):
        recovery_codes_renew(actor=actor_for_user(officer), user=user)
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert not StaticToken.objects.exists() and not AuditEvent.objects.exists()


def test_a_reset_removes_everything_and_says_how_much() -> None:
    user = UserFactory()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=False)
    second_factor_confirm(actor=actor_for_user(user), user=user, device=device)
    assert second_factor_reset(actor=SYSTEM, user=user, reason="lost phone") == {
        "authenticators": 1,
        "recovery_devices": 1,
    }
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert second_factor_reset(actor=SYSTEM, user=user) == {
        "authenticators": 0,
        "recovery_devices": 0,
    }
