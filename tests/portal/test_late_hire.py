"""The hire form's confirmation step for a late hire: figures shown, nothing saved until confirmed."""

from datetime import date

import pytest

from expatsi.insurance import views
from expatsi.insurance.models import Registration
from tests.portal.factories import card_for_form, make_employer, make_hr
from tests.portal.test_views import hire_post, logged_in

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 30)


@pytest.fixture(autouse=True)
def pinned(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


def late_post(employer, **over):
    """Same person and figures as tests/insurance/test_late_hire.py's golden case, on the card
    issued 2026-09-01 unless ``over`` says otherwise (put on file here: the form names the card,
    whose dates count)."""
    values = {
        "nationality": "DEU",
        "permit_issued_on": "2026-09-01",
        "permit_valid_to": "2028-08-31",
        "residence_permit_issued_on": "2026-09-01",
        "start_date": "2026-09-01",
        "monthly_wage": "28500.00",
    }
    post = hire_post(employer, **(values | over))
    card_for_form(employer, post)
    return post


def test_a_late_hire_is_confirmed_before_it_is_registered():
    employer = make_employer()
    c = logged_in(make_hr(employer))
    r = c.post("/hires/new/", late_post(employer))
    assert r.status_code == 200
    body = r.content.decode()
    assert Registration.objects.count() == 0  # nothing kept before confirming
    assert 'id="late-overdue-days">60<' in body
    assert 'id="late-months-owed">3<' in body
    assert "¥31,644.00" in body and "¥321.71" in body
    assert "0.05 % a day" in body and "Art. 86" in body
    assert 'name="confirm_late"' in body
    r = c.post("/hires/new/", late_post(employer, confirm_late="on"))
    assert r.status_code == 302
    assert Registration.objects.count() == 1


def test_the_confirmation_step_in_chinese():
    employer = make_employer()
    c = logged_in(make_hr(employer))
    r = c.post("/zh-hans/hires/new/", late_post(employer))
    body = r.content.decode()
    assert "31,644.00 元" in body and "321.71 元" in body
    assert "计算依据" in body and "每日万分之五" in body and "确认并登记" in body


def test_an_on_time_hire_needs_no_confirmation():
    employer = make_employer()
    c = logged_in(make_hr(employer))
    on_time = {
        "permit_issued_on": "2026-11-20",
        "residence_permit_issued_on": "2026-11-20",
        "start_date": "2026-11-20",
    }
    r = c.post("/hires/new/", late_post(employer, **on_time))
    assert r.status_code == 302
    assert Registration.objects.count() == 1


def test_a_refused_hire_never_reaches_the_confirmation_step():
    employer = make_employer()
    c = logged_in(make_hr(employer))
    r = c.post("/hires/new/", late_post(employer) | {"start_date": "2026-08-01"})
    body = r.content.decode()
    assert r.status_code == 400
    assert 'name="confirm_late"' not in body
