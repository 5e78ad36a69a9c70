"""Billing's small world: a Beijing employer and a Shanghai representative office with their
work-injury ratings, and two people employed in Beijing (built with tests.factories)."""

from datetime import date

import pytest

from tests.factories import (
    CoverageCertificateFactory,
    EmployerFactory,
    EmploymentFactory,
    PersonFactory,
    WorkInjuryRatingFactory,
)


def make_person(family, nationality="USA", birth=date(1985, 1, 1), sex="male"):
    """A person with no passport on file (billing needs none; bworld adds some)."""
    return PersonFactory(
        family_name=family,
        given_names="T",
        sex=sex,
        birth_date=birth,
        nationality=nationality,
        passport=None,
    )


def employ(person, employer, wage_yuan, start=date(2024, 1, 1), end=None):
    return EmploymentFactory(
        person=person,
        employer=employer,
        start_date=start,
        end_date=end,
        position="Engineer",
        contract_wage=wage_yuan * 100,
    )


@pytest.fixture
def beijing(db):
    e = EmployerFactory(name="Beijing Co.", uscc="91110000600037341L", region_code="110000")
    # class II at 100% → 0.4%
    WorkInjuryRatingFactory(
        employer=e,
        industry_class="II",
        grade_ppm=1_000_000,
        rate_ppm=4_000,
        effective_from=date(2020, 1, 1),
    )
    return e


@pytest.fixture
def shanghai(db):
    e = EmployerFactory(
        name="Shanghai Rep Office",
        uscc="91310000MA1FL8TQ2Y",
        region_code="310000",
        representative_office=True,  # of Parent AG (DEU)
    )
    # class I at 100% → 0.2% × Shanghai's 80% = 0.16%
    WorkInjuryRatingFactory(
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
    CoverageCertificateFactory(
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
