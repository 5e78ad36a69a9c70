"""The daily job also expires cards, credits paid contributions and purges old idempotency records."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from expatsi.access.models import IdempotencyRecord
from expatsi.cards.models import CardStatus
from expatsi.cli import main
from tests.api.conftest import World
from tests.cards.helpers import active_card

pytestmark = pytest.mark.django_db


def record(key: str, age_days: int) -> IdempotencyRecord:
    r = IdempotencyRecord.objects.create(
        key=key,
        principal="user:1",
        method="POST",
        path="/x",
        request_digest="0" * 64,
        status_code=201,
        response_body="{}",
    )
    IdempotencyRecord.objects.filter(pk=r.pk).update(
        created_at=timezone.now() - timedelta(days=age_days)
    )
    return r


def test_run_daily_expires_cards_and_purges_old_idempotency_records(world: World, capsys) -> None:
    card = active_card(world.a, world.pa2, days=3)  # pa2 holds no card (pa's is on file)
    old, fresh = record("old", 8), record("fresh", 1)
    day_after_expiry = (card.valid_to + timedelta(days=1)).isoformat()
    assert main(["jobs", "run-daily", "--today", day_after_expiry, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["cards_expired"], result["idempotency_purged"]) == (1, 1)
    card.refresh_from_db()
    assert card.status == CardStatus.EXPIRED
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert IdempotencyRecord.objects.filter(pk=fresh.pk).exists()
    assert main(["jobs", "run-daily", "--today", day_after_expiry, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cards_expired"] == 0  # nothing twice
