"""The death and inheritance pages: who reaches them, a report with evidence, a claim with two
heirs, shares refused next to their field, and the decision."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from expatsi.benefits.models import ClaimStatus, DeathReport, InheritanceClaim, Payout
from tests.benefits.conftest import Departed
from tests.benefits.test_death import DIED, PDF
from tests.portal.factories import make_hr
from tests.security.test_chinese_pages_no_codes import english_msgids, visible_text
from tests.twofactor import verified_login


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("certificate.pdf", PDF.data, "application/pdf")


HEIRS = {
    "heir1_name": "Marie Lefebvre",
    "heir1_relationship": "spouse",
    "heir1_country": "FRA",
    "heir1_iban": "FR1420041010050500013M02606",
    "heir1_bic": "PSSTFRPPPAR",
    "heir1_currency": "EUR",
    "heir2_name": "Li Wei",
    "heir2_relationship": "son",
    "heir2_country": "CHN",
    "heir2_account_number": "6222021234567890123",
    "heir2_bic": "ICBKCNBJ",
    "heir2_currency": "CNY",
}


def test_the_pages_are_for_hr_and_staff(departed: Departed) -> None:
    me = Client()
    me.force_login(departed.user)
    assert me.get("/benefits/deaths/").status_code == 403
    assert Client().get("/benefits/deaths/").status_code == 302  # to sign in
    hr = Client()
    hr.force_login(make_hr(departed.employer, "hr-pages"))
    assert hr.get("/benefits/deaths/").status_code == 200


def english_in(html: str) -> list[str]:
    """English sentences of the catalogue on a page that should be Chinese."""
    text = "\n".join(visible_text(html))
    return [m for m in english_msgids() if m in text]


@pytest.mark.parametrize("prefix", ["", "/zh-hans"])
def test_a_report_and_a_claim_decided_with_two_heirs(departed: Departed, prefix: str) -> None:
    staff = verified_login(Client(), departed.officer)
    seen: list[str] = []
    page = staff.get(f"{prefix}/benefits/deaths/")
    assert page.status_code == 200
    seen.append(page.content.decode())
    sent = staff.post(
        f"{prefix}/benefits/deaths/",
        {
            "person": departed.person.pk,
            "died_on": DIED.isoformat(),
            "reporter": "family",
            "reporter_name": "",
            "relationship": "",
            "evidence": pdf(),
        },
    )
    assert sent.status_code == 400  # a family member's report names them
    seen.append(sent.content.decode())
    sent = staff.post(
        f"{prefix}/benefits/deaths/",
        {
            "person": departed.person.pk,
            "died_on": DIED.isoformat(),
            "reporter": "family",
            "reporter_name": "Marie Lefebvre",
            "relationship": "spouse",
            "evidence": pdf(),
        },
    )
    assert sent.status_code == 302, sent.content.decode()[:3000]
    death = DeathReport.objects.get()
    page = staff.get(f"{prefix}/benefits/deaths/{death.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "7,227.00" in body
    seen.append(body)
    doc = death.documents.get()
    got = staff.get(f"{prefix}/benefits/deaths/{death.pk}/documents/{doc.pk}/")
    assert got.status_code == 200 and got.content == PDF.data
    bad = staff.post(
        f"{prefix}/benefits/deaths/{death.pk}/claim/",
        {**HEIRS, "heir2_bic": "PSSTFRPP", "document": pdf()},
    )
    assert bad.status_code == 400
    assert 'id="id_heir2_bic"' in bad.content.decode()
    seen.append(bad.content.decode())
    filed = staff.post(f"{prefix}/benefits/deaths/{death.pk}/claim/", {**HEIRS, "document": pdf()})
    assert filed.status_code == 302, filed.content.decode()[:3000]
    claim = InheritanceClaim.objects.get()
    wife, son = claim.heirs.order_by("position")
    assert staff.get(f"{prefix}/benefits/inheritance/{claim.pk}/").status_code == 200
    short = staff.post(
        f"{prefix}/benefits/inheritance/{claim.pk}/decide/",
        {f"share_{wife.pk}": "1/2", f"share_{son.pk}": "1/3", "decision": "approve"},
    )
    assert short.status_code == 400
    assert "5/6" in short.content.decode()
    seen.append(short.content.decode())
    done = staff.post(
        f"{prefix}/benefits/inheritance/{claim.pk}/decide/",
        {f"share_{wife.pk}": "1/2", f"share_{son.pk}": "1/2", "decision": "approve"},
    )
    assert done.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    assert sorted(Payout.objects.values_list("amount", flat=True)) == [361_350, 361_350]
    page = staff.get(f"{prefix}/benefits/inheritance/{claim.pk}/").content.decode()
    assert "3,613.50" in page
    seen.append(page)
    if prefix:
        assert [english_in(html) for html in seen] == [[]] * len(seen)
    payments = staff.get(f"{prefix}/benefits/payments/")
    assert payments.status_code == 200 and "IH" in payments.content.decode()
