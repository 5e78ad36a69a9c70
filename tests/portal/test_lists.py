"""Lists a clerk works through: registrations searched, filtered, sorted, paged, exported and
accepted together (each still checked and audited); the HR home list overdue first."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.test import Client
from openpyxl import load_workbook

from expatsi.access.actors import SYSTEM
from expatsi.audit.models import AuditEvent
from expatsi.insurance.models import Registration, RegistrationStatus
from expatsi.insurance.services import registration_accept
from tests.portal.factories import make_agency, make_employer, make_hire, make_hr
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    c = Client()
    verified_login(c, user)
    return c


@pytest.fixture
def world():
    bj = make_employer()
    sh = make_employer(2, name="Huangpu Trading Co., Ltd.", region="310000")
    hr_bj = make_hr(bj)
    hr_sh = make_hr(sh, "hr-sh")
    today = date.today()
    regs = {
        "overdue": make_hire(bj, hr_bj, 1, family="Adler", issued=today - timedelta(days=40)),
        "soon": make_hire(bj, hr_bj, 2, family="Brandt", issued=today - timedelta(days=27)),
        "later": make_hire(bj, hr_bj, 3, family="Claes", issued=today - timedelta(days=2)),
        "shanghai": make_hire(sh, hr_sh, 4, family="Dumas", issued=today - timedelta(days=3)),
    }
    return bj, sh, hr_bj, regs


def test_registrations_open_on_the_queue_soonest_deadline_first(world):
    c = logged_in(make_agency())
    body = c.get("/registrations/").content.decode()
    assert 'id="list-q"' in body and 'id="list-f-status"' in body
    assert body.index("ADLER") < body.index("BRANDT") < body.index("CLAES")
    assert "DUMAS" in body  # every region for an officer of every region


def test_registrations_show_every_status_when_asked_and_decided_ones_cannot_be_selected(world):
    _bj, _sh, _hr, regs = world
    registration_accept(actor=SYSTEM, registration_id=regs["later"].pk)
    c = logged_in(make_agency())
    queue = c.get("/registrations/").content.decode()
    assert "CLAES" not in queue
    everything = c.get("/registrations/?status=").content.decode()
    assert "CLAES" in everything
    assert f'value="{regs["later"].pk}" form="bulk-form"' not in everything
    assert f'value="{regs["overdue"].pk}" form="bulk-form"' in everything
    accepted = c.get("/registrations/?status=accepted").content.decode()
    assert "CLAES" in accepted and "ADLER" not in accepted


def test_search_by_name_passport_and_employer(world):
    c = logged_in(make_agency())
    assert "BRANDT" in c.get("/registrations/?q=brand").content.decode()
    by_name = c.get("/registrations/?q=brand").content.decode()
    assert "ADLER" not in by_name
    by_passport = c.get("/registrations/?q=C01X00003").content.decode()
    assert "CLAES" in by_passport and "ADLER" not in by_passport
    by_employer = c.get("/registrations/?q=Huangpu").content.decode()
    assert "DUMAS" in by_employer and "ADLER" not in by_employer


def test_filters_by_deadline_and_region(world):
    c = logged_in(make_agency())
    overdue = c.get("/registrations/?deadline=overdue").content.decode()
    assert "ADLER" in overdue and "BRANDT" not in overdue
    shanghai = c.get("/registrations/?region=310000").content.decode()
    assert "DUMAS" in shanghai and "ADLER" not in shanghai


def test_region_staff_see_and_filter_only_their_regions(world):
    c = logged_in(make_agency("officer-bj", regions="110000"))
    body = c.get("/registrations/").content.decode()
    assert "ADLER" in body and "DUMAS" not in body
    # Another region's value is not a choice: ignored, the scope stays.
    assert "DUMAS" not in c.get("/registrations/?region=310000").content.decode()


def test_sorting_is_whitelisted_and_reversible(world):
    c = logged_in(make_agency())
    by_name_desc = c.get("/registrations/?sort=-name").content.decode()
    assert by_name_desc.index("DUMAS") < by_name_desc.index("ADLER")
    assert 'aria-sort="descending"' in by_name_desc
    # A field name is not a column: the default order stays, no error.
    r = c.get("/registrations/?sort=person__ssn")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.index("ADLER") < body.index("BRANDT")


def test_paging_without_counting_the_whole_table(world):
    c = logged_in(make_agency())
    first = c.get("/registrations/?per_page=25").content.decode()
    assert "Rows 1–4 of 4" in first
    assert 'rel="next"' not in first
    r = c.get("/registrations/?page=abc&per_page=7")  # nonsense: page 1, 50 rows
    assert r.status_code == 200


def test_paging_moves_through_the_rows(world, settings):
    from expatsi.web import lists

    c = logged_in(make_agency())
    original = lists.PER_PAGE_CHOICES
    lists.PER_PAGE_CHOICES = (2, *original)
    try:
        page1 = c.get("/registrations/?per_page=2").content.decode()
        page2 = c.get("/registrations/?per_page=2&page=2").content.decode()
    finally:
        lists.PER_PAGE_CHOICES = original
    assert "ADLER" in page1 and "BRANDT" in page1 and "CLAES" not in page1
    assert 'rel="next"' in page1
    assert "CLAES" in page2 and "ADLER" not in page2
    assert 'rel="prev"' in page2


def test_csv_export_is_every_row_the_filters_show(world):
    c = logged_in(make_agency())
    r = c.get("/registrations/?region=110000&export=csv")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["family_name", "given_names"]
    assert [row[0] for row in rows[1:]] == ["Adler", "Brandt", "Claes"]
    assert rows[1][10] == "Submitted"  # words, not codes
    assert rows[1][6] == "Beijing"


def test_xlsx_export_in_the_readers_language(world):
    c = logged_in(make_agency())
    r = c.get("/zh-hans/registrations/?q=Adler&export=xlsx")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == "Adler"
    assert rows[1][6] == "北京市"


def test_hr_and_employees_do_not_reach_the_registrations_list(world):
    _bj, _sh, hr, _regs = world
    c = logged_in(hr)
    assert c.get("/registrations/").status_code == 403
    assert c.get("/registrations/?export=csv").status_code == 403
    assert c.post("/registrations/bulk/", {"ids": ["1"]}).status_code == 403


# --- bulk acceptance ------------------------------------------------------------------------------


def test_bulk_accept_confirms_then_accepts_each_and_audits_each(world):
    _bj, _sh, _hr, regs = world
    c = logged_in(make_agency())
    ids = [regs["overdue"].pk, regs["soon"].pk]
    confirm = c.post("/registrations/bulk/", {"ids": ids, "back": "?status=submitted"})
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Accept 2 registrations?" in body
    assert Registration.objects.filter(status=RegistrationStatus.ACCEPTED).count() == 0
    done = c.post("/registrations/bulk/", {"ids": ids, "step": "confirm"})
    assert done.status_code == 200
    assert "2 accepted" in done.content.decode()
    for pk in ids:
        reg = Registration.objects.get(pk=pk)
        assert reg.status == RegistrationStatus.ACCEPTED
        assert (
            AuditEvent.objects.filter(action="registration.accept", object_id=str(pk)).count() == 1
        )


def test_bulk_accept_reports_each_refusal_with_its_reason(world):
    _bj, _sh, _hr, regs = world
    registration_accept(actor=SYSTEM, registration_id=regs["soon"].pk)
    c = logged_in(make_agency("officer-bj", regions="110000"))
    ids = [regs["overdue"].pk, regs["soon"].pk, regs["shanghai"].pk]
    done = c.post("/registrations/bulk/", {"ids": ids, "step": "confirm"}).content.decode()
    assert "1 accepted" in done and "2 refused" in done
    assert "BRANDT" in done  # already decided, named with its reason
    assert "Not found, or not yours to decide." in done  # another region's: not even named
    assert "DUMAS" not in done
    assert Registration.objects.get(pk=regs["overdue"].pk).status == RegistrationStatus.ACCEPTED
    assert Registration.objects.get(pk=regs["shanghai"].pk).status == RegistrationStatus.SUBMITTED


def test_bulk_accept_without_a_selection_says_so(world):
    c = logged_in(make_agency())
    r = c.post("/registrations/bulk/", {"ids": ["x"]})
    assert r.status_code == 400
    assert "Select at least one registration" in r.content.decode()


# --- the HR home list -----------------------------------------------------------------------------


def test_hr_home_lists_overdue_first_and_tiles_link_to_the_filtered_list(world):
    bj, _sh, hr, regs = world
    registration_accept(actor=SYSTEM, registration_id=regs["overdue"].pk)
    late = make_hire(bj, hr, 5, family="Eriksen", issued=date.today() - timedelta(days=50))
    c = logged_in(hr)
    body = c.get("/").content.decode()
    # The open overdue one first; the decided one (an older deadline) after the open ones.
    assert body.index("ERIKSEN") < body.index("BRANDT") < body.index("CLAES") < body.index("ADLER")
    assert f'href="?employer={bj.pk}&amp;deadline=overdue"' in body
    overdue = c.get(f"/?employer={bj.pk}&deadline=overdue").content.decode()
    assert "ERIKSEN" in overdue and "BRANDT" not in overdue
    assert 'aria-current="true"' in overdue
    assert late.pk


def test_hr_home_export_is_the_employers_list_only(world):
    bj, _sh, hr, _regs = world
    c = logged_in(hr)
    r = c.get(f"/?employer={bj.pk}&export=csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    names = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert sorted(names) == ["Adler", "Brandt", "Claes"]
