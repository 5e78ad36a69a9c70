"""The one upload flow (web/uploads.py): one size cap for every bulk import, pages and API; a
preview applied only by its own token."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile

from expatsi.billing.models import BaseDeclaration, Payment
from expatsi.cards.models import Card
from expatsi.insurance.models import Registration
from expatsi.rules.errors import RuleError
from expatsi.web.uploads import upload_read
from tests.api.conftest import World

CAP = 1000
BIG = b"passport_country,passport_number,period_start,wage\n" + b"# padding\n" * 200
assert len(BIG) > CAP

# (role, page, form fields besides the file, the file's field) of every page that takes a file
PAGES = [
    ("hr_a", "/billing/declarations/import/", {}, "file"),
    ("agency", "/billing/payments/bank-statement/", {}, "file"),
    ("hr_a", "/hires/import/", {"employer": "A"}, "file"),
    ("agency", "/cards/legacy/", {"file-dry_run": "on"}, "file-file"),
]
APPLY = [
    ("hr_a", "/billing/declarations/import/apply/"),
    ("agency", "/billing/payments/bank-statement/apply/"),
    ("hr_a", "/hires/import/apply/"),
]


def _nothing_written() -> tuple[int, ...]:
    return (
        BaseDeclaration.objects.count(),
        Payment.objects.count(),
        Registration.objects.count(),
        Card.objects.filter(legacy=True).count(),
    )


@pytest.fixture
def small_cap(settings: Any) -> int:
    settings.EXPATSI_MAX_UPLOAD_BYTES = CAP
    return CAP


@pytest.mark.parametrize(("role", "url", "fields", "file_field"), PAGES)
def test_every_import_page_refuses_a_file_over_the_one_cap(
    world: World, small_cap: int, role: str, url: str, fields: dict[str, str], file_field: str
) -> None:
    before = _nothing_written()
    data = {k: (world.a.pk if v == "A" else v) for k, v in fields.items()}
    r = world.client(role).post(url, {**data, file_field: SimpleUploadedFile("big.csv", BIG)})
    assert r.status_code == 400
    assert "larger than 1000 bytes" in r.content.decode()
    assert _nothing_written() == before


@pytest.mark.parametrize(
    ("role", "path", "fields"),
    [
        ("hr_a", "/billing/declarations/import", {"employer_id": "A", "dry_run": "false"}),
        ("agency", "/billing/bank-statements", {"dry_run": "false"}),
    ],
)
def test_every_import_of_the_api_refuses_a_file_over_the_one_cap(
    world: World, small_cap: int, role: str, path: str, fields: dict[str, str]
) -> None:
    before = _nothing_written()
    data = {k: (world.a.pk if v == "A" else v) for k, v in fields.items()}
    r = world.client(role).post(
        f"/api/v1{path}", {**data, "file": SimpleUploadedFile("big.csv", BIG)}
    )
    assert r.status_code == 400
    assert (r.json()["code"], r.json()["field"]) == ("too_large", "file")
    assert _nothing_written() == before


def test_the_cap_is_the_setting_and_the_message_names_it(settings: Any) -> None:
    settings.EXPATSI_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    exact = SimpleUploadedFile("ok.csv", b"x" * (10 * 1024 * 1024))
    assert len(upload_read(exact).data) == 10 * 1024 * 1024
    with pytest.raises(RuleError) as refused:
        upload_read(SimpleUploadedFile("big.csv", b"x" * (10 * 1024 * 1024 + 1)))
    assert refused.value.message == "the file is larger than 10 MB"


def test_an_oversized_file_is_not_read_past_the_cap(small_cap: int) -> None:
    reads: list[int] = []

    class Endless(io.BytesIO):
        """A file with no end: reading it to the end never returns."""

        def read(self, size: int | None = -1) -> bytes:
            reads.append(-1 if size is None else size)
            assert size is not None and size >= 0, "read to the end of a file with no end"
            return b"x" * size

    with pytest.raises(RuleError):
        upload_read(UploadedFile(Endless(), name="endless.csv"))
    assert reads == [CAP + 1]


@pytest.mark.parametrize(("role", "url"), APPLY)
@pytest.mark.parametrize("token", ["", "not-the-token", "令牌"])
def test_an_import_is_applied_only_by_its_own_token(
    world: World, role: str, url: str, token: str
) -> None:
    before = _nothing_written()
    r = world.client(role).post(url, {"token": token}, follow=True)
    assert r.status_code == 200
    assert "That import is no longer pending: upload the file again." in r.content.decode()
    assert _nothing_written() == before
