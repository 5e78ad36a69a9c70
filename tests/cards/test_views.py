"""Card pages: public verification (text and photo, both languages), the card page, filing forms
with errors next to their fields, the agency's queue, PDF and PNG downloads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from expatsi.cards.models import CardApplication, VerificationLog
from expatsi.credentials import qr
from tests.api.conftest import World

from .helpers import active_card, flip_byte, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(world: World):
    return active_card(world.a, world.pa)


@pytest.fixture
def expiring_card(world: World):
    """A card of A's that ends in 20 days, inside the 30-day extension window: for ``pa2``, who
    holds no card yet (``pa``'s, from the world's hire, runs 600 days)."""
    return active_card(world.a, world.pa2, days=20)


def test_verify_page_text_and_photo(card) -> None:
    c = Client()
    assert c.get("/cards/verify/").status_code == 200
    text = card.tokens.get().text
    r = c.post("/cards/verify/", {"text": text})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-result="valid"' in html and card.permit_number in html
    r = c.post("/cards/verify/", {"image": SimpleUploadedFile("c.png", qr.png(flip_byte(text)))})
    assert 'data-result="tampered"' in r.content.decode()
    assert VerificationLog.objects.filter(via="page").count() == 2


def test_verify_page_in_chinese_and_errors_next_to_the_field(card) -> None:
    c = Client()
    r = c.post("/zh-hans/cards/verify/", {"text": ""})
    assert r.status_code == 400
    assert 'id="id_text_error"' in r.content.decode()
    r = c.post("/cards/verify/", {"image": SimpleUploadedFile("c.png", b"junk")})
    assert r.status_code == 400 and 'id="id_image_error"' in r.content.decode()
    assert c.get("/zh-hans/cards/verify/").status_code == 200


def test_verify_page_rate_limit(card, settings) -> None:
    settings.EXPATSI_VERIFY_RATE_PER_MINUTE = 1
    c = Client()
    text = card.tokens.get().text
    assert c.post("/cards/verify/", {"text": text}).status_code == 200
    assert c.post("/cards/verify/", {"text": text}).status_code == 429


def test_card_page_for_holder_hr_and_strangers(world: World, card) -> None:
    r = world.client("self").get(f"/cards/{card.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert card.permit_number in html and (world.pa.ssn or "—") in html and "<svg" in html
    assert card.tokens.get().text in html
    assert "Apply for an extension" not in html  # the employer files
    assert (
        "Apply for an extension" in world.client("hr_a").get(f"/cards/{card.pk}/").content.decode()
    )
    assert world.client("hr_b").get(f"/cards/{card.pk}/").status_code == 404
    assert world.client("other").get(f"/cards/{card.pk}/").status_code == 404
    assert world.client("anon").get(f"/cards/{card.pk}/").status_code == 302
    png = world.client("self").get(f"/cards/{card.pk}/qr.png")
    assert png["Content-Type"] == "image/png"
    assert qr.read_image(png.content) == [card.tokens.get().text]
    assert world.client("self").get("/cards/").status_code == 302  # one card: straight to it
    assert "Mueller" not in world.client("hr_b").get("/cards/").content.decode()


def test_pdf_download(world: World, card) -> None:
    r = world.client("self").get(f"/cards/{card.pk}/card.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


def test_filing_errors_shown_next_to_fields_then_agency_decides(
    world: World, expiring_card
) -> None:
    card = expiring_card
    hr = world.client("hr_a")
    url = f"/cards/{card.pk}/extension/"
    r = hr.post(url, {"new_valid_to": ""})
    assert r.status_code == 400 and 'id="id_new_valid_to_error"' in r.content.decode()
    r = hr.post(url, {"new_valid_to": card.valid_to.isoformat()})
    assert r.status_code == 400 and 'id="id_new_valid_to_error"' in r.content.decode()
    r = hr.post(url, {"new_valid_to": (card.valid_to + timedelta(days=365)).isoformat()})
    assert r.status_code == 302
    app = CardApplication.objects.get(card=card, kind="extension")
    assert world.client("hr_a").get("/cards/queue/").status_code == 403
    queue = world.client("agency").get("/cards/queue/").content.decode()
    assert f'id="application-{app.pk}"' in queue
    assert "(optional)" not in queue  # the reason is required to reject: not "optional"
    assert (
        f"application-{app.pk}"
        not in world.client("agency_sh").get("/cards/queue/").content.decode()
    )
    r = world.client("agency").post(f"/cards/applications/{app.pk}/decide/", {"decision": "reject"})
    assert r.status_code == 400 and f'id="id_a{app.pk}-reason_error"' in r.content.decode()
    r = world.client("agency").post(
        f"/cards/applications/{app.pk}/decide/", {"decision": "approve"}
    )
    assert r.status_code == 302
    card.refresh_from_db()
    assert card.valid_to == today() + timedelta(days=20 + 365)


def test_change_and_deregistration_forms(world: World, card) -> None:
    hr = world.client("hr_a")
    r = hr.post(f"/cards/{card.pk}/change/", {"change_date": today().isoformat()})
    assert r.status_code == 400 and "error-summary" in r.content.decode()
    r = hr.post(
        f"/cards/{card.pk}/change/", {"change_date": today().isoformat(), "position": "Lead"}
    )
    assert r.status_code == 302
    r = hr.post(
        f"/cards/{card.pk}/deregistration/",
        {"reason": "contract_ended", "end_date": today().isoformat()},
    )
    assert r.status_code == 400 and "awaiting a decision" in r.content.decode()
    assert hr.get(f"/cards/{card.pk}/bogus/").status_code == 404
    assert world.client("self").get(f"/cards/{card.pk}/change/").status_code == 403


def test_first_entry_steps_show_each_deadline(world: World, card) -> None:
    html = world.client("hr_a").get(f"/cards/{card.pk}/").content.decode()
    assert 'id="first-entry-steps"' in html
    for key in ("applied", "notice", "entry", "residence", "registration"):
        assert f'data-step="{key}"' in html
    from expatsi.cards.selectors import first_entry_steps

    steps = {s.key: s for s in first_entry_steps(card)}
    assert steps["residence"].day == card.entry_date + timedelta(days=30)
    assert steps["notice"].state == "done"
    assert steps["registration"].day is not None  # the 30-day registration clock of the permit
