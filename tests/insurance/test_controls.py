"""The law's controls at hire and registration: agreement maximum periods, eligibility (Order No.
16 Art. 2), no employment before the permit, and late hires accepted with the consequences."""

from datetime import date, timedelta

import pytest

from expatsi.access.actors import actor_for_user
from expatsi.insurance.models import CoverageCertificate, Registration
from expatsi.insurance.services import certificate_add, hire_register, hire_warnings
from expatsi.rules.errors import RuleError
from tests.factories import card_on_file
from tests.portal.factories import hire_data, make_employer, make_hire, make_hr

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    employer = make_employer()
    return employer, make_hr(employer)


def test_a_12_year_german_certificate_is_refused_on_valid_to(setup):
    employer, hr = setup
    person = make_hire(employer, hr).person
    actor = actor_for_user(hr)
    with pytest.raises(RuleError) as err:
        certificate_add(
            actor=actor,
            person=person,
            number="DE-1",
            country="DEU",
            valid_from=date(2026, 1, 1),
            valid_to=date(2037, 12, 31),
        )
    assert (err.value.code, err.value.field) == ("certificate_too_long", "valid_to")
    assert "2030-12-31" in err.value.message  # 60 months from 2026-01-01 end on 2030-12-31
    with pytest.raises(RuleError):  # one day too long
        certificate_add(
            actor=actor,
            person=person,
            number="DE-2",
            country="DEU",
            valid_from=date(2026, 1, 1),
            valid_to=date(2031, 1, 1),
        )
    cert = certificate_add(
        actor=actor,
        person=person,
        number="DE-3",
        country="DEU",
        valid_from=date(2026, 1, 1),
        valid_to=date(2030, 12, 31),
    )
    assert CoverageCertificate.objects.filter(pk=cert.pk).exists()


def test_a_hire_without_residence_permit_is_refused_on_that_field(setup):
    employer, hr = setup
    with pytest.raises(RuleError) as err:
        make_hire(employer, hr, residence_permit_number="", residence_permit_issued_on=None)
    assert (err.value.code, err.value.field) == ("not_eligible", "residence_permit_number")
    assert Registration.objects.count() == 0


def test_a_permanent_resident_needs_no_residence_permit(setup):
    employer, hr = setup
    reg = make_hire(
        employer,
        hr,
        permit_kind="permanent_resident_id",
        permit_number="DEU110090041201",
        residence_permit_number="",
        residence_permit_issued_on=None,
    )
    assert reg.pk


def test_an_expired_residence_permit_is_refused_on_its_valid_to(setup):
    employer, hr = setup
    issued = date.today() - timedelta(days=5)
    with pytest.raises(RuleError) as err:
        make_hire(
            employer,
            hr,
            residence_permit_issued_on=issued - timedelta(days=400),
            residence_permit_valid_to=issued - timedelta(days=1),
        )
    assert (err.value.code, err.value.field) == ("not_eligible", "residence_permit_valid_to")


def test_employment_before_the_permit_is_refused_on_start_date(setup):
    employer, hr = setup
    issued = date.today() - timedelta(days=5)
    with pytest.raises(RuleError) as err:
        make_hire(employer, hr, issued=issued, start_date=issued - timedelta(days=49))
    assert (err.value.code, err.value.field) == ("start_before_permit", "start_date")
    reg = make_hire(employer, hr, issued=issued, start_date=issued)  # the same day is fine
    assert reg.pk


def test_an_on_time_hire_has_no_warning(setup):
    employer, _ = setup
    data = hire_data(issued=date(2026, 11, 1), start_date=date(2026, 11, 1))
    # Deadline: 30 days after 2026-11-01 = 2026-12-01; on that day still on time.
    assert hire_warnings(employer=employer, data=data, today=date(2026, 12, 1)) == []


def test_a_late_hire_is_accepted_with_overdue_days_and_months_owed(setup):
    employer, hr = setup
    issued = date(2026, 9, 1)
    data = hire_data(issued=issued, start_date=date(2026, 9, 15))
    card_on_file(employer, data)  # the card the hire names
    reg = hire_register(actor=actor_for_user(hr), employer=employer, data=data)
    assert reg.pk  # accepted
    (w,) = hire_warnings(employer=employer, data=data, today=date(2026, 11, 30))
    # Deadline 2026-10-01 (30 days after 2026-09-01); 2026-11-30 is 60 days later.
    assert w.code == "late_registration"
    assert w.overdue_days == 60
    # September, October and November 2026.
    assert w.months_owed == 3
    assert w.owed_amount > 0
    assert w.late_fee_exposure >= 0
    assert "Art. 86" in w.basis


def test_german_extensions_stop_at_96_months_in_total(setup):
    """China–Germany: a certificate covers at most 60 months, further ones up to 96 in all
    (agreements.toml: max_exemption_months 60, max_total_months 96). Worked by hand: 2020-01-01 to
    2024-12-31 is 60 months; 2025-01-01 to 2027-12-31 adds 36 (96); 2028-01-01 would be the 97th."""
    employer, hr = setup
    person = make_hire(employer, hr).person
    actor = actor_for_user(hr)

    def file(number: str, start: date, end: date) -> CoverageCertificate:
        return certificate_add(
            actor=actor, person=person, number=number, country="DEU", valid_from=start, valid_to=end
        )

    file("DE-A", date(2020, 1, 1), date(2024, 12, 31))
    with pytest.raises(RuleError) as err:
        file("DE-B", date(2025, 1, 1), date(2028, 1, 1))
    assert (err.value.code, err.value.field) == ("exemption_total_exceeded", "valid_to")
    assert "60 months, so 36 remain" in err.value.message
    file("DE-B", date(2025, 1, 1), date(2027, 12, 31))
    # a certificate re-filed over months already covered adds nothing to the total
    file("DE-C", date(2027, 1, 1), date(2027, 12, 31))
    with pytest.raises(RuleError):
        file("DE-D", date(2028, 1, 1), date(2028, 1, 31))
    assert CoverageCertificate.objects.filter(person=person).count() == 3


def test_agreements_without_a_total_limit_judge_each_certificate_alone(setup):
    employer, hr = setup
    person = make_hire(employer, hr).person
    actor = actor_for_user(hr)
    for i, year in enumerate((2010, 2015, 2020)):  # Korea: 60 months each, no total in the table
        certificate_add(
            actor=actor,
            person=person,
            number=f"KR-{i}",
            country="KOR",
            valid_from=date(year, 1, 1),
            valid_to=date(year + 4, 12, 31),
        )
    assert CoverageCertificate.objects.filter(person=person, country="KOR").count() == 3
