"""Overseas-assigned staff (seconded by a foreign company, enrolled by the domestic employer) on
the portal hire form and in the bulk hire import."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from expatsi.access.actors import actor_for_user
from expatsi.insurance.imports import COLUMN_NAMES, hires_import, template_csv
from expatsi.insurance.models import Employment, Registration
from tests.factories import example_card_on_file
from tests.portal.factories import card_for_form, make_employer, make_hr
from tests.portal.test_views import hire_post, logged_in

pytestmark = pytest.mark.django_db


def test_the_hire_form_records_an_overseas_assignment():
    employer = make_employer()
    c = logged_in(make_hr(employer))
    assert 'name="seconded_by"' in c.get("/hires/new/").content.decode()
    post = hire_post(employer, seconded_by="Rhine Precision GmbH", seconded_by_country="DEU")
    card_for_form(employer, post)
    r = c.post("/hires/new/", post)
    assert r.status_code == 302, r.content.decode()[:2000]
    emp = Employment.objects.get()
    assert (emp.seconded_by, emp.seconded_by_country) == ("Rhine Precision GmbH", "DEU")


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"seconded_by": "Rhine Precision GmbH"}, "Choose the country of the overseas company."),
        ({"seconded_by_country": "DEU"}, "Name the overseas company, or leave its country empty."),
    ],
)
def test_the_hire_form_refuses_half_an_assignment(over, field):
    employer = make_employer()
    c = logged_in(make_hr(employer))
    r = c.post("/hires/new/", hire_post(employer, **over))
    assert r.status_code == 400
    assert field in r.content.decode()
    assert Registration.objects.count() == 0


def _rows(**over: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(template_csv()))
    row = next(reader)
    row.update(over)
    return [row]


def test_the_import_template_has_the_assignment_columns():
    header = template_csv().splitlines()[0].split(",")
    assert "seconded_by" in header and "seconded_by_country" in header
    assert {"seconded_by", "seconded_by_country"} <= set(COLUMN_NAMES)


def test_the_import_records_an_overseas_assignment():
    employer = make_employer()
    example_card_on_file(employer)
    hr = make_hr(employer)
    rows = _rows(seconded_by="Rhine Precision GmbH", seconded_by_country="deu")
    report = hires_import(actor=actor_for_user(hr), employer=employer, rows=rows, dry_run=False)
    assert report.committed, report.errors
    emp = Employment.objects.get()
    assert (emp.seconded_by, emp.seconded_by_country) == ("Rhine Precision GmbH", "DEU")


@pytest.mark.parametrize(
    ("over", "column", "code"),
    [
        ({"seconded_by": "Rhine Precision GmbH"}, "seconded_by_country", None),
        (
            {"seconded_by": "Rhine Precision GmbH", "seconded_by_country": "XXX"},
            "seconded_by_country",
            None,
        ),
        ({"seconded_by_country": "DEU"}, "seconded_by", "required"),
    ],
)
def test_the_import_refuses_a_bad_assignment_on_its_column(over, column, code):
    employer = make_employer()
    example_card_on_file(employer)
    hr = make_hr(employer)
    report = hires_import(
        actor=actor_for_user(hr), employer=employer, rows=_rows(**over), dry_run=True
    )
    (error,) = report.errors
    assert error.column == column
    if code:
        assert error.code == code


def test_the_portal_import_page_documents_the_columns():
    employer = make_employer()
    c = logged_in(make_hr(employer))
    body = c.get("/hires/import/").content.decode()
    assert "seconded_by_country" in body
    upload = SimpleUploadedFile(
        "hires.csv",
        template_csv().replace("\r\n", "\n").encode(),
        content_type="text/csv",
    )
    r = c.post("/hires/import/", {"employer": employer.pk, "file": upload})
    assert r.status_code == 200
