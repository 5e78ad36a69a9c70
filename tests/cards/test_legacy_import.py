"""``expatsi card import-legacy FILE``: CSV/XLSX, dry run, row errors, atomic and idempotent."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from expatsi.cards.models import Card, CardEvent
from expatsi.cli import main
from expatsi.people.models import Passport
from tests.api.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "permit_number,passport_country,passport_number,employer_uscc,category,position,valid_from,valid_to"


def _row(
    world: World, person, permit: str, valid_to: str = "2027-06-30", category: str = "B"
) -> str:
    passport = Passport.objects.get(person=person, is_current=True)
    return (
        f"{permit},{passport.country},{passport.number},{world.a.uscc},{category},Teacher,"
        f"2023-07-01,{valid_to}"
    )


def _run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["card", "import-legacy", *argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_import_dry_run_then_import_then_again(world: World, tmp_path: Path, capsys) -> None:
    f = tmp_path / "permits.csv"
    f.write_text(
        "\n".join([HEADER, _row(world, world.pa2, "110000201700012345"), ""]), encoding="utf-8"
    )
    code, dry = _run(capsys, str(f), "--dry-run")
    assert code == 0 and dry["imported"] == 1 and not dry["committed"]
    assert not Card.objects.filter(legacy=True).exists()
    code, done = _run(capsys, str(f))
    assert code == 0 and done["imported"] == 1 and done["committed"]
    card = Card.objects.get(legacy=True)
    assert (card.permit_number, card.valid_to, card.employer_id) == (
        "110000201700012345",
        date(2027, 6, 30),
        world.a.pk,
    )
    assert CardEvent.objects.filter(card=card, action="import_legacy").count() == 1
    code, again = _run(capsys, str(f))  # idempotent
    assert code == 0 and again["imported"] == 0 and again["already_imported"] == 1
    assert Card.objects.filter(legacy=True).count() == 1


def test_one_bad_row_refuses_the_file_with_row_and_column(
    world: World, tmp_path: Path, capsys
) -> None:
    f = tmp_path / "permits.csv"
    f.write_text(
        "\n".join(
            [
                HEADER,
                _row(world, world.pa2, "110000201700012345"),
                _row(world, world.pb, "12345", category="Z"),
                "110000201700099999,DEU,X1234567,91110000XXXXXXXXXX,B,Teacher,2023-07-01,2022-01-01",
            ]
        ),
        encoding="utf-8",
    )
    code, result = _run(capsys, str(f))
    assert code == 1
    assert not Card.objects.filter(legacy=True).exists()  # atomic: the good row is not kept
    found = {(e["row"], e["column"]) for e in result["errors"]}
    assert (3, "permit_number") in found or (3, "category") in found
    assert (4, "employer_uscc") in found
    assert all(e["row"] != 2 for e in result["errors"])


def test_xlsx_is_read_too(world: World, tmp_path: Path, capsys) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(_row(world, world.pa2, "110000201700012345").split(","))
    buf = io.BytesIO()
    book.save(buf)
    f = tmp_path / "permits.xlsx"
    f.write_bytes(buf.getvalue())
    code, result = _run(capsys, str(f))
    assert code == 0 and result["imported"] == 1


def test_a_missing_file_is_exit_2(capsys) -> None:
    assert main(["card", "import-legacy", "/nonexistent/permits.csv"]) == 2
    assert "cannot read" in capsys.readouterr().err
