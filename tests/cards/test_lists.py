"""The cards list and the decision queue on the list toolkit; card applications approved
together, each through the single decision (checked, audited, told to the employer)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from expatsi.access.actors import actor_for_user
from expatsi.audit.models import AuditEvent
from expatsi.cards.models import ApplicationStatus, CardApplication
from expatsi.cards.services import card_extend_request
from tests.api.conftest import World

from .helpers import active_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def apps(world: World) -> tuple[CardApplication, CardApplication]:
    """Two extension applications: the Beijing employee's and the Shanghai one's."""
    out = []
    for employer, person, hr in ((world.a, world.pa, "hr_a"), (world.b, world.pb, "hr_b")):
        card = active_card(employer, person)  # the card on file from the world's hire
        actor = actor_for_user(world.users[hr])
        out.append(
            card_extend_request(
                actor=actor,
                card_id=card.pk,
                new_valid_to=card.valid_to + timedelta(days=365),
                today=card.valid_to - timedelta(days=20),  # filed inside the 30-day window
            )
        )
    return out[0], out[1]


def test_cards_list_searches_filters_and_exports(world: World, apps) -> None:
    agency = world.client("agency")
    body = agency.get("/cards/").content.decode()
    assert world.pa.full_name in body and world.pb.full_name in body
    only_a = agency.get("/cards/", {"q": world.pa.family_name}).content.decode()
    assert world.pa.full_name in only_a and world.pb.full_name not in only_a
    assert "Rows 1–" in only_a
    none = agency.get("/cards/", {"status": "expired"}).content.decode()
    assert "No card found." in none
    r = agency.get("/cards/", {"q": world.pa.family_name, "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [world.pa.family_name]
    assert rows[1][6] == "Active"


def test_queue_is_searchable_and_scoped(world: World, apps) -> None:
    a, b = apps
    queue = world.client("agency").get("/cards/queue/").content.decode()
    assert f'id="application-{a.pk}"' in queue and f'id="application-{b.pk}"' in queue
    found = world.client("agency").get("/cards/queue/", {"q": world.pb.family_name})
    assert f'id="application-{a.pk}"' not in found.content.decode()
    sh = world.client("agency_sh").get("/cards/queue/").content.decode()
    assert f'id="application-{a.pk}"' not in sh


def test_bulk_approve_confirms_then_decides_each_and_reports_refusals(world: World, apps) -> None:
    a, b = apps
    sh = world.client("agency_sh")  # Shanghai only: b is theirs, a is not
    confirm = sh.post("/cards/queue/bulk/", {"ids": [a.pk, b.pk]})
    assert confirm.status_code == 200
    assert "Approve 1 application?" in confirm.content.decode()  # a is not theirs to see
    assert CardApplication.objects.get(pk=b.pk).status == ApplicationStatus.SUBMITTED
    done = sh.post("/cards/queue/bulk/", {"ids": [a.pk, b.pk], "step": "confirm"})
    html = done.content.decode()
    assert "1 approved" in html and "1 refused" in html
    assert "Not found, or not yours to decide." in html
    assert CardApplication.objects.get(pk=a.pk).status == ApplicationStatus.SUBMITTED
    assert CardApplication.objects.get(pk=b.pk).status == ApplicationStatus.APPROVED
    again = sh.post("/cards/queue/bulk/", {"ids": [b.pk], "step": "confirm"}).content.decode()
    assert "0 approved" in again and "1 refused" in again
    assert AuditEvent.objects.filter(object_type="card").exists()


def test_bulk_approve_is_agency_only(world: World, apps) -> None:
    a, _b = apps
    assert world.client("hr_a").post("/cards/queue/bulk/", {"ids": [a.pk]}).status_code == 403
    assert world.client("agency").post("/cards/queue/bulk/", {}).status_code == 400
