"""The first card application in the portal with its documents, and the documents' API: a file is
what its bytes are (not its name), capped in size, stored, read only by the employer's HR and the
agency of its region, and every read is audited."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from expatsi.audit.models import AuditEvent
from expatsi.cards import documents
from expatsi.cards.models import ApplicationDocument, Card, CardApplication
from expatsi.portal.labels import audit_action, detail_items
from expatsi.rules.errors import RuleError
from tests.api.conftest import World

from .helpers import today

pytestmark = pytest.mark.django_db
API = "/api/v1"

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def image_bytes(fmt: str, size: tuple[int, int] = (120, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


# --- what a file is -------------------------------------------------------------------------------


def test_sniff_takes_the_bytes_not_the_name() -> None:
    assert documents.sniff(PDF) == "application/pdf"
    assert documents.sniff(image_bytes("PNG")) == "image/png"
    assert documents.sniff(image_bytes("JPEG")) == "image/jpeg"
    for bad in (b"MZ\x90\x00 a program", b"<html><script>alert(1)</script></html>", b"GIF89a"):
        with pytest.raises(RuleError) as exc:
            documents.sniff(bad, field="degree")
        assert (exc.value.code, exc.value.field) == ("document_type", "degree")


def test_sniff_refuses_files_cut_short_and_empty() -> None:
    with pytest.raises(RuleError, match="complete PDF"):
        documents.sniff(PDF[:-12])  # no %%EOF: the upload was cut
    png = image_bytes("PNG", (400, 400))
    with pytest.raises(RuleError) as exc:
        documents.sniff(png[: len(png) // 2])
    assert exc.value.code == "document_type"
    with pytest.raises(RuleError) as exc:
        documents.sniff(b"")
    assert exc.value.code == "document_required"


def test_size_cap_is_the_lower_of_the_document_cap_and_the_site_cap(settings) -> None:
    assert documents.document_max_bytes() == 5 * 1024 * 1024
    settings.EXPATSI_MAX_UPLOAD_BYTES = 1000
    assert documents.document_max_bytes() == 1000
    with pytest.raises(RuleError) as exc:
        documents.sniff(PDF + b" " * 1000)
    assert exc.value.code == "document_too_large" and exc.value.status == 413


# --- the web form ---------------------------------------------------------------------------------


def _form(world: World, **files: bytes | tuple[str, bytes]) -> dict[str, object]:
    data: dict[str, object] = {
        "employer": str(world.a.pk),
        "person": str(world.pa2.pk),
        "category": "B",
        "position": "Test engineer",
        "valid_to": (today() + timedelta(days=700)).isoformat(),
    }
    for kind, content in files.items():
        name, raw = content if isinstance(content, tuple) else (f"{kind}.pdf", content)
        data[kind] = SimpleUploadedFile(name, raw)
    return data


@pytest.mark.parametrize("prefix", ["", "/zh-hans"])
def test_form_opens_in_both_languages_for_hr_and_agency(world: World, prefix: str) -> None:
    r = world.client("hr_a").get(f"{prefix}/cards/apply/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'enctype="multipart/form-data"' in html and 'name="passport_scan"' in html
    assert world.pa2.full_name in html and world.pb.full_name not in html  # only their people
    assert ("护照扫描件" if prefix else "Passport scan") in html
    assert world.client("agency").get(f"{prefix}/cards/apply/").status_code == 200
    assert world.client("self").get(f"{prefix}/cards/apply/").status_code == 403


def test_a_wrong_file_is_marked_on_its_field_and_nothing_is_filed(world: World) -> None:
    c = world.client("hr_a")
    r = c.post("/cards/apply/", _form(world, labour_contract=PDF))
    html = r.content.decode()
    assert r.status_code == 400 and 'id="id_passport_scan_error"' in html
    r = c.post(
        "/cards/apply/",
        _form(
            world, passport_scan=("passport.pdf", b"<html>not a pdf</html>"), labour_contract=PDF
        ),
    )
    html = r.content.decode()
    assert r.status_code == 400 and 'id="id_passport_scan_error"' in html
    assert "PDF, JPEG or PNG" in html and 'id="id_labour_contract_error"' not in html
    r = world.client("hr_a").post(
        "/zh-hans/cards/apply/",
        _form(world, passport_scan=("p.pdf", b"junk"), labour_contract=PDF),
    )
    assert r.status_code == 400 and "PDF、JPEG 或 PNG" in r.content.decode()
    assert not Card.objects.filter(person=world.pa2).exists()


def test_hr_applies_with_documents_agency_reviews_downloads_and_approves(world: World) -> None:
    hr = world.client("hr_a")
    png = image_bytes("PNG")
    r = hr.post(
        "/cards/apply/",
        _form(
            world,
            passport_scan=("passport scan.exe", png),  # a PNG whatever the name says
            labour_contract=("contract.pdf", PDF),
            medical_report=("medical.jpg", image_bytes("JPEG")),
        ),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    app = CardApplication.objects.get(card__person=world.pa2)
    assert r["Location"] == f"/cards/applications/{app.pk}/"
    docs = {d.kind: d for d in ApplicationDocument.objects.filter(application=app)}
    assert set(docs) == {"passport_scan", "labour_contract", "medical_report"}
    assert docs["passport_scan"].content_type == "image/png"
    assert docs["passport_scan"].filename == "passport scan.png"
    assert bytes(docs["labour_contract"].data) == PDF

    agency = world.client("agency")
    html = agency.get(f"/cards/applications/{app.pk}/").content.decode()
    assert "passport scan.png" in html and "Degree certificate" in html  # listed as missing
    assert 'name="decision"' in html
    zh = agency.get(f"/zh-hans/cards/applications/{app.pk}/").content.decode()
    assert "劳动合同" in zh and "批准" in zh

    url = f"/cards/applications/{app.pk}/documents/{docs['labour_contract'].pk}/"
    before = AuditEvent.objects.filter(action="card.document_read").count()
    r = agency.get(url)
    assert r.status_code == 200 and r.content == PDF and r["Content-Type"] == "application/pdf"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="card.document_read").count() == before + 1
    # the holder, another employer's HR, the agency of another region: nothing
    for role in ("self", "hr_b", "agency_sh", "other"):
        assert world.client(role).get(url).status_code == 404, role
    assert AuditEvent.objects.filter(action="card.document_read").count() == before + 1

    # HR adds the degree later; the agency approves on the review page
    r = hr.post(
        f"/cards/applications/{app.pk}/documents/",
        {"kind": "degree", "file": SimpleUploadedFile("degree.pdf", PDF)},
    )
    assert r.status_code == 302
    assert app.documents.count() == 4
    r = hr.post(f"/cards/applications/{app.pk}/decision/", {"decision": "approve"})
    assert r.status_code == 403
    r = agency.post(f"/cards/applications/{app.pk}/decision/", {"decision": "approve"})
    assert r.status_code == 302
    app.refresh_from_db()
    assert app.status == "approved" and app.card.status == "notice_issued"
    # decided: no more documents
    r = hr.post(
        f"/cards/applications/{app.pk}/documents/",
        {"kind": "degree", "file": SimpleUploadedFile("degree.pdf", PDF)},
    )
    assert r.status_code == 400


def test_a_rejection_needs_a_reason_next_to_its_field(world: World) -> None:
    hr = world.client("hr_a")
    hr.post(
        "/cards/apply/",
        _form(world, passport_scan=PDF, labour_contract=PDF),
    )
    app = CardApplication.objects.get(card__person=world.pa2)
    r = world.client("agency").post(
        f"/cards/applications/{app.pk}/decision/", {"decision": "reject"}
    )
    assert r.status_code == 400 and f'id="id_a{app.pk}-reason_error"' in r.content.decode()


# --- the API --------------------------------------------------------------------------------------


def _apply_api(world: World) -> int:
    body = {
        "employer_id": world.a.pk,
        "person_id": world.pa2.pk,
        "category": "A",
        "position": "Chief engineer",
        "valid_to": (today() + timedelta(days=700)).isoformat(),
    }
    r = world.client("hr_a").post(f"{API}/cards", body, content_type="application/json")
    assert r.status_code == 201
    return int(r.json()["id"])


def test_api_uploads_lists_and_downloads_documents(world: World, settings) -> None:
    app_id = _apply_api(world)
    hr = world.client("token_a")
    path = f"{API}/cards/applications/{app_id}/documents"
    r = hr.post(path, {"kind": "passport_scan", "file": SimpleUploadedFile("p.bin", PDF)})
    assert r.status_code == 201, r.content
    doc = r.json()
    assert doc["content_type"] == "application/pdf" and doc["filename"] == "p.pdf"
    r = hr.post(path, {"kind": "degree", "file": SimpleUploadedFile("d.pdf", b"<svg/>")})
    assert r.status_code == 400 and r.json()["code"] == "document_type"
    assert r.json()["field"] == "file"
    r = hr.post(path, {"kind": "visa", "file": SimpleUploadedFile("d.pdf", PDF)})
    assert r.status_code == 400 and r.json()["field"] == "kind"
    settings.EXPATSI_MAX_UPLOAD_BYTES = 100
    r = hr.post(path, {"kind": "degree", "file": SimpleUploadedFile("d.pdf", PDF + b" " * 200)})
    assert r.status_code == 413 and r.json()["code"] == "document_too_large"

    listed = world.client("agency").get(path).json()
    assert [d["kind"] for d in listed] == ["passport_scan"]
    r = world.client("agency").get(f"{path}/{doc['id']}")
    assert r.status_code == 200 and r.content == PDF
    assert AuditEvent.objects.filter(action="card.document_read").count() == 1
    assert world.client("hr_b").get(path).status_code == 404
    assert world.client("hr_b").get(f"{path}/{doc['id']}").status_code == 404
    r = world.client("hr_b").post(
        path, {"kind": "degree", "file": SimpleUploadedFile("d.pdf", PDF)}
    )
    assert r.status_code == 404


def test_the_audit_trail_names_document_events_and_kinds_in_words() -> None:
    assert audit_action("card.document_read") == "Application document downloaded"
    assert audit_action("card.document_attach") == "Application document added"
    assert ("Kind", "Passport scan") in detail_items({"kind": "passport_scan"})
    with translation.override("zh-hans"):
        assert audit_action("card.document_read") == "已下载申请材料"
        assert [v for _k, v in detail_items({"kind": "passport_scan"})] == ["护照扫描件"]
