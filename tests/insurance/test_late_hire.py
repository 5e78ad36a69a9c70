"""A late hire's figures worked by hand from the policy tables (Beijing, 2026–27 period)."""

from datetime import date

import pytest

from expatsi.access.actors import actor_for_user
from expatsi.insurance.imports import hires_import, template_csv
from expatsi.insurance.services import hire_warnings
from expatsi.people.services import PersonData
from tests.factories import card_for
from tests.portal.factories import hire_data, make_employer, make_hr

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 30)  # pinned


def test_golden_late_fee_exposure_for_one_beijing_hire():
    employer = make_employer()  # region 110000, no work-injury rating on file
    data = hire_data(issued=date(2026, 9, 1), start_date=date(2026, 9, 1), contract_wage=2_850_000)
    (w,) = hire_warnings(employer=employer, data=data, today=TODAY)
    # Deadline: 30 days after the permit's issue 2026-09-01 = 2026-10-01; to 2026-11-30: 60 days.
    assert w.overdue_days == 60
    # Months owed back: 2026-09, 2026-10, 2026-11.
    assert w.months_owed == 3
    # 110000-beijing.toml, period 2026-07..2027-06: base limits 7,162–35,811 → wage 28,500 stands.
    # Employer: pension 16 % 4,560.00 + medical 9.8 % 2,793.00 + unemployment 0.5 % 142.50
    #           + work injury class I benchmark 0.2 % (no employer rate) 57.00 = 7,552.50
    # Employee: pension 8 % 2,280.00 + medical 2 % 570.00 + 3.00 fixed + unemployment 0.5 % 142.50
    #           = 2,995.50
    # A month: 10,548.00; three months: 31,644.00.
    assert w.owed_amount == 3_164_400
    # Due date ([region.payment]: the 15th of the month after): Sep → 2026-10-15,
    # Oct → 2026-11-15, Nov → 2026-12-15 (not yet due on 2026-11-30: no fee).
    # Sep: 2026-10-16..2026-11-30 = 46 days; 1,054,800 fen × 0.0005 × 46 = 24,260.4 → 24,260 fen.
    # Oct: 2026-11-16..2026-11-30 = 15 days; 1,054,800 fen × 0.0005 × 15 = 7,911 fen.
    # Exposure: 24,260 + 7,911 = 32,171 fen = ¥321.71.
    assert w.late_fee_exposure == 32_171
    assert w.due == date(2026, 10, 1)
    assert "Art. 86" in w.basis and "28500.00" in w.basis


def test_the_import_report_carries_each_late_rows_warning():
    employer = make_employer()
    hr = make_hr(employer)
    header = template_csv().splitlines()[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(
        family_name="Late",
        given_names="Lena",
        sex="female",
        birth_date="1990-01-01",
        nationality="DEU",
        passport_number="C01LATE01",
        permit_number="IC1100202600991",
        permit_issued_on="2026-09-01",
        residence_permit_number="E99887766",
        residence_permit_issued_on="2026-09-01",
        start_date="2026-09-01",
        position="Engineer",
        monthly_wage="28500.00",
    )
    card_for(  # the card the row names, on file (one card number, issue #10)
        employer,
        PersonData(
            family_name="Late",
            given_names="Lena",
            sex="female",
            birth_date=date(1990, 1, 1),
            nationality="DEU",
            passport_number="C01LATE01",
        ),
        "IC1100202600991",
        issued=date(2026, 9, 1),
    )
    report = hires_import(
        actor=actor_for_user(hr), employer=employer, rows=[row], dry_run=True, today=TODAY
    )
    assert report.ok, report.errors
    (result,) = report.results
    (w,) = result.warnings
    assert (w.overdue_days, w.months_owed, w.owed_amount, w.late_fee_exposure) == (
        60,
        3,
        3_164_400,
        32_171,
    )
