from datetime import date

import pytest

from expatsi.employers.models import Employer, WorkInjuryRating
from expatsi.insurance.models import CoverageCertificate, Employment
from expatsi.people.models import Person


def make_person(family, nationality="USA", birth=date(1985, 1, 1), sex="male"):
    return Person.objects.create(
        family_name=family, given_names="T", sex=sex, birth_date=birth, nationality=nationality
    )


def employ(person, employer, wage_yuan, start=date(2024, 1, 1), end=None):
    return Employment.objects.create(
        person=person,
        employer=employer,
        start_date=start,
        end_date=end,
        position="Engineer",
        contract_wage=wage_yuan * 100,
    )


@pytest.fixture
def beijing(db):
    e = Employer.objects.create(name="Beijing Co.", uscc="91110000600037341L", region_code="110000")
    # class II at 100% → 0.4%
    WorkInjuryRating.objects.create(
        employer=e,
        industry_class="II",
        grade_ppm=1_000_000,
        rate_ppm=4_000,
        effective_from=date(2020, 1, 1),
    )
    return e


@pytest.fixture
def shanghai(db):
    e = Employer.objects.create(
        name="Shanghai Rep Office",
        uscc="91310000MA1FL8TQ2Y",
        region_code="310000",
        kind="representative_office",
        overseas_company="Parent AG",
        overseas_country="DEU",
    )
    # class I at 100% → 0.2% × Shanghai's 80% = 0.16%
    WorkInjuryRating.objects.create(
        employer=e,
        industry_class="I",
        grade_ppm=1_000_000,
        rate_ppm=1_600,
        effective_from=date(2020, 1, 1),
    )
    return e


@pytest.fixture
def beijing_staff(beijing):
    a = make_person("Alpha", "DEU")
    CoverageCertificate.objects.create(
        person=a,
        number="DE-1",
        country="DEU",
        valid_from=date(2024, 1, 1),
        valid_to=date(2028, 12, 31),
    )
    b = make_person("Bravo", "USA")
    employ(a, beijing, 30000)
    employ(b, beijing, 5000)
    return a, b
