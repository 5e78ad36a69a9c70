"""Work permit numbers: 2-digit province + year + 11-digit serial + a Luhn check digit (a
CONVENTION), so that a mistyped digit is caught. The check digit comes from python-stdnum's
``luhn`` since it replaced a hand-written one; numbers issued before and after are the same."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from expatsi.cards import services
from expatsi.people.models import Person

from .helpers import active_card, today


def hand_written_luhn_digit(digits: str) -> str:
    """The check digit expatsi computed itself until it used stdnum (kept here as the reference)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_stdnum_gives_the_check_digit_expatsi_gave_before(body: str) -> None:
    assert luhn.calc_check_digit(body) == hand_written_luhn_digit(body)


def test_the_textbook_luhn_example() -> None:
    assert hand_written_luhn_digit("7992739871") == luhn.calc_check_digit("7992739871") == "3"


@pytest.mark.django_db
def test_an_issued_permit_number_carries_a_luhn_digit_that_catches_a_typo(employer, person) -> None:
    number = active_card(employer, person).permit_number
    assert re.fullmatch(r"\d{18}", number)
    assert number[:2] == employer.region_code[:2] and number[2:6] == f"{today().year:04d}"
    assert luhn.is_valid(number)
    typo = number[:9] + str((int(number[9]) + 1) % 10) + number[10:]
    assert not luhn.is_valid(typo)
    other = Person.objects.create(
        family_name="Other", sex="female", birth_date=person.birth_date, nationality="USA"
    )
    assert services.permit_number_for(other, employer.region_code) != number
    assert luhn.is_valid(services.permit_number_for(other, employer.region_code))
