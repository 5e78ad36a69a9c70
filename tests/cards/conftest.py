from datetime import date

import pytest

from expatsi.access import crypto
from expatsi.access.actors import Actor
from expatsi.cards import keys
from tests.api.conftest import world  # noqa: F401 - the API tests' two-tenant world, by name
from tests.factories import EmployerFactory, PersonFactory

AGENCY = Actor("agency", None, "officer", regions=None)


@pytest.fixture(autouse=True)
def key_dir(tmp_path, settings):
    settings.EXPATSI_KEY_DIR = tmp_path / "keys"
    keys.reset_caches()
    keys.keys_init()
    crypto.keys_init()  # as `expatsi card keys init` does: the data keys beside the card keys
    yield tmp_path / "keys"
    keys.reset_caches()


@pytest.fixture
def employer(db):
    return EmployerFactory(
        name="Example Technology (Beijing) Co., Ltd.",
        uscc="91110000600037341L",
        region_code="110000",
    )


@pytest.fixture
def other_employer(db):
    return EmployerFactory(name="Other Co.", uscc="91310000MA1FL8TQ2Y", region_code="310000")


@pytest.fixture
def person(db):
    """Insured (a social security number), with no passport on file: the card tests about
    passports use the API world's people."""
    return PersonFactory(
        family_name="Mueller",
        given_names="Hans",
        sex="male",
        birth_date=date(1980, 5, 17),
        nationality="DEU",
        ssn="911276198005170018",
        passport=None,
    )


@pytest.fixture
def hr(employer):
    return Actor("hr", None, "hr", employer_ids=frozenset({employer.pk}))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Verification rate-limit counters live in Django's cache: start every test with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
