"""Bank accounts abroad: IBAN countries by IBAN (schwifty), others by their own rules, always a BIC
of the account's country and an ISO 4217 currency. No database."""

from __future__ import annotations

import pytest

from expatsi.benefits.bank import validate
from expatsi.rules.errors import RuleError


def check(**over: str):
    values = {
        "country": "DEU",
        "iban": "DE89 3704 0044 0532 0130 00",
        "account_number": "",
        "bank_code": "",
        "bic": "COBADEFF",
        "currency": "eur",
    }
    values.update(over)
    return validate(**values)


def test_an_iban_account_is_kept_compact_with_an_11_character_bic() -> None:
    acct = check()
    assert (acct.iban, acct.bic, acct.currency, acct.account_number) == (
        "DE89370400440532013000",
        "COBADEFFXXX",
        "EUR",
        "",
    )


def test_a_us_account_by_aba_routing_number() -> None:
    acct = check(
        country="USA",
        iban="",
        account_number="000123456789",
        bank_code="021000021",
        bic="CHASUS33",
        currency="USD",
    )
    assert (acct.account_number, acct.bank_code, acct.clearing_system) == (
        "000123456789",
        "021000021",
        "USABA",
    )


@pytest.mark.parametrize(
    ("over", "code", "field"),
    [
        ({"iban": "DE89 3704 0044 0532 0130 01"}, "invalid_iban", "iban"),
        ({"iban": ""}, "iban_required", "iban"),
        ({"iban": "FR1420041010050500013M02606"}, "iban_country", "iban"),
        ({"bic": "BNPAFRPP"}, "bic_country", "bic"),
        ({"bic": "COBA"}, "invalid_bic", "bic"),
        ({"currency": "EUROS"}, "invalid_currency", "currency"),
        ({"currency": "XYZ"}, "invalid_currency", "currency"),
        ({"country": "CHN", "iban": "", "bic": "BKCHCNBJ"}, "bank_in_china", "country"),
        ({"country": "ZZZ"}, "unknown_country", "country"),
        (
            {
                "country": "USA",
                "bic": "CHASUS33",
                "account_number": "123456",
                "bank_code": "021000022",
            },
            "iban_not_used",
            "iban",
        ),
        (
            {
                "country": "USA",
                "iban": "",
                "bic": "CHASUS33",
                "account_number": "123456",
                "bank_code": "021000022",
            },
            "invalid_bank_code",
            "bank_code",
        ),
        (
            {
                "country": "USA",
                "iban": "",
                "bic": "CHASUS33",
                "account_number": "12",
                "bank_code": "021000021",
            },
            "invalid_account_number",
            "account_number",
        ),
        (
            {
                "country": "JPN",
                "iban": "",
                "bic": "MHCBJPJT",
                "account_number": "1234567",
                "bank_code": "0001",
            },
            "invalid_bank_code",
            "bank_code",
        ),
    ],
)
def test_refusals_name_the_field(over: dict[str, str], code: str, field: str) -> None:
    with pytest.raises(RuleError) as refused:
        check(**over)
    assert (refused.value.code, refused.value.field) == (code, field)
