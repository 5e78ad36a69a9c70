"""A retried death report or claim document upload (same Idempotency-Key) is answered with the
first answer and stored once."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from expatsi.benefits.models import DeathDocument
from tests.benefits.conftest import Departed
from tests.benefits.test_death import DIED, PDF
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


def test_a_retried_claim_document_upload_is_stored_once(departed: Departed) -> None:
    staff = verified_login(Client(), departed.officer)
    base = "/api/v1/benefits/deaths"
    death = staff.post(
        base,
        {
            "person_id": departed.person.pk,
            "died_on": DIED.isoformat(),
            "reporter": "family",
            "reporter_name": "Marie Lefebvre",
            "relationship": "spouse",
            "evidence": SimpleUploadedFile("certificate.pdf", PDF.data, "application/pdf"),
        },
        headers={"Idempotency-Key": "death-1"},
    )
    assert death.status_code == 201, death.content
    replay = staff.post(
        base,
        {
            "person_id": departed.person.pk,
            "died_on": DIED.isoformat(),
            "reporter": "family",
            "reporter_name": "Marie Lefebvre",
            "relationship": "spouse",
            "evidence": SimpleUploadedFile("certificate.pdf", PDF.data, "application/pdf"),
        },
        headers={"Idempotency-Key": "death-1"},
    )
    assert replay.status_code == 201, replay.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == death.json()["id"]
    claim = staff.post(
        f"{base}/{death.json()['id']}/claims",
        {
            "heirs": [
                {
                    "name": "Marie Lefebvre",
                    "relationship": "spouse",
                    "bank": {
                        "holder": "Marie Lefebvre",
                        "country": "FRA",
                        "iban": "FR1420041010050500013M02606",
                        "bic": "PSSTFRPPPAR",
                        "currency": "EUR",
                    },
                }
            ]
        },
        content_type="application/json",
    )
    assert claim.status_code == 201, claim.content
    url = f"{base}/claims/{claim.json()['id']}/documents"
    before = DeathDocument.objects.count()
    for _ in range(2):
        sent = staff.post(
            url,
            {"file": SimpleUploadedFile("inheritance.pdf", PDF.data, "application/pdf")},
            headers={"Idempotency-Key": "claim-doc-1"},
        )
        assert sent.status_code == 201, sent.content
    assert DeathDocument.objects.count() == before + 1
