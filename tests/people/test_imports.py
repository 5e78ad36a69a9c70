"""Entry/exit records from the border authority (people/imports.py): a file is written whole or not
at all, every bad row is reported with its spreadsheet row number and column, a crossing is
matched by any passport the person ever held, and importing the same crossings again adds nothing.
The upload through the API is in tests/api/test_bad_input.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from expatsi.access.actors import SYSTEM, Actor
from expatsi.audit.models import AuditEvent
from expatsi.insurance.selectors import persons_visible
from expatsi.people import imports
from expatsi.people.imports import ImportRejectedError, ImportResult
from expatsi.people.models import EntryExit
from expatsi.people.services import passport_replace
from expatsi.rules.errors import Forbidden, RuleError
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

HEADER = "passport_country,passport_number,date,direction,port\n"
AGENCY = Actor("agency", 1, "officer", regions=None)


def entry_exit_import(*, actor: Actor, content: bytes) -> ImportResult:
    """The import as its API endpoint calls it: with the people the actor may see."""
    return imports.entry_exit_import(actor=actor, content=content, visible=persons_visible(actor))


def today() -> date:
    return timezone.localdate()


def csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(r + "\n" for r in rows)).encode()


def rejected(content: bytes, actor: Actor = AGENCY) -> ImportRejectedError:
    with pytest.raises(ImportRejectedError) as exc:
        entry_exit_import(actor=actor, content=content)
    assert not EntryExit.objects.exists(), "a rejected file writes nothing"
    return exc.value


@pytest.fixture
def anna():
    """Anna renewed her passport: C01X00T47 is on file as her earlier one, C4J8LM2N1 current."""
    person = PersonFactory(family_name="Schmidt", passport__number="C01X00T47")
    passport_replace(actor=SYSTEM, person=person, country="DEU", number="C4J8LM2N1")
    return person


def test_crossings_are_matched_by_any_passport_the_person_held(anna) -> None:
    day = today() - timedelta(days=3)
    result = entry_exit_import(
        actor=AGENCY,
        content=csv(
            f"DEU,C01X00T47,{day - timedelta(days=30)},exit,Capital Airport",
            f"deu,c4j8 lm2n1,{day},ENTRY,Capital Airport",
        ),
    )
    assert (result.rows, result.created, result.skipped) == (2, 2, 0)
    assert list(
        EntryExit.objects.filter(person=anna).order_by("date").values_list("direction", "port")
    ) == [("exit", "Capital Airport"), ("entry", "Capital Airport")]
    event = AuditEvent.objects.get(action="entry_exit.import")
    assert event.detail == {"rows": 2, "created": 2, "people": 1}


def test_the_same_crossing_twice_is_recorded_once_in_a_file_and_across_files(anna) -> None:
    row = f"DEU,C4J8LM2N1,{today()},entry,Pudong"
    first = entry_exit_import(actor=AGENCY, content=csv(row, row))
    assert (first.rows, first.created, first.skipped) == (2, 1, 1)
    again = entry_exit_import(actor=AGENCY, content=csv(f"DEU,C01X00T47,{today()},entry,Pudong"))
    assert (again.created, again.skipped) == (0, 1)  # the old passport: the same crossing
    assert EntryExit.objects.count() == 1


def test_columns_may_come_in_any_order_and_blank_lines_are_skipped(anna) -> None:
    content = csv(
        "",
        f"entry,Pudong,{today()},C4J8LM2N1,DEU",
        "  ,  ,  ,  ,  ",
        header="direction,port,date,passport_number,passport_country\n",
    )
    assert entry_exit_import(actor=AGENCY, content=content).created == 1


def test_every_bad_row_is_reported_by_row_and_column_in_order(anna) -> None:
    tomorrow = today() + timedelta(days=1)
    error = rejected(
        csv(
            f"DEU,C4J8LM2N1,{today()},entry,Pudong",  # row 2: good, but the file is rejected
            "",  # row 3: blank, skipped, still counted in the numbering
            f"DEU,C4J8LM2N1,{tomorrow},exit,Pudong",  # row 4: future
            f"DEU,C4J8LM2N1,{today()},sideways,",  # row 5: direction and port
            "XX,AB1,2026-02-30,entry,Pudong",  # row 6: country, number and date
            f"DEU,C4J8LM2N1,{today()},entry",  # row 7: a value missing
            f"USA,999999999,{today()},entry,Pudong",  # row 8: nobody on file
        )
    )
    assert {(e.row, e.column) for e in error.errors} == {
        (4, "date"),
        (5, "direction"),
        (5, "port"),
        (6, "passport_country"),
        (6, "passport_number"),
        (6, "date"),
        (7, ""),
        (8, "passport_number"),
    }
    assert [e.row for e in error.errors] == sorted(e.row for e in error.errors)
    assert error.total == 8 and "8 error(s)" in error.message
    by_row = {e.row: e.message for e in error.errors}
    assert "in the future" in by_row[4]
    assert "has 4 values; the header has 5" in by_row[7]
    assert "USA 999999999" in by_row[8]


def test_a_wrong_header_is_reported_before_any_row() -> None:
    error = rejected(csv("DEU,C4J8LM2N1,entry", header="passport_number,passport_number,when\n"))
    columns = {e.column for e in error.errors if e.row == 1}
    assert {"passport_country", "date", "direction", "port", "when"} <= columns
    assert any("the header must be" in e.message for e in error.errors)


def test_a_file_with_a_header_and_no_rows_is_refused() -> None:
    with pytest.raises(RuleError) as exc:
        entry_exit_import(actor=AGENCY, content=csv("", ""))
    assert (exc.value.code, exc.value.field) == ("empty_file", "file")


def test_a_long_list_of_errors_is_cut_but_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "MAX_ERRORS_SHOWN", 3)
    error = rejected(csv(*[f"DEU,C0000000{n},{today()},sideways,Pudong" for n in range(5)]))
    assert len(error.errors) == 3 and error.total == 5
    assert "the first 3 are listed" in error.message


@pytest.mark.parametrize(
    "actor",
    [
        Actor("hr", 3, "hr", employer_ids=frozenset({1})),
        Actor("employee", 4, "e", person_id=1),
    ],
)
def test_only_agency_staff_import_crossings(anna, actor: Actor) -> None:
    with pytest.raises(Forbidden):
        entry_exit_import(actor=actor, content=csv(f"DEU,C4J8LM2N1,{today()},entry,Pudong"))
    assert not EntryExit.objects.exists()
