"""Bank accounts abroad: what makes an account payable, checked before anything is stored.

* **Countries that use IBAN** (the IBAN registry that ``schwifty`` ships; a country whose IBAN is
  only "aspirational" there counts as not using it): the IBAN, checked for length, structure and
  check digits, and the bank's BIC.
* **Countries without IBAN**: the account number and the bank code in that country's form
  (``COUNTRY_RULES``: e.g. the 9-digit ABA routing number in the United States, checked with its
  check digit by ``python-stdnum``; the 6-digit BSB in Australia), and the BIC. A country not in
  the table takes the generic rule: 1–34 letters and digits, a bank code optional.
* **Always** a BIC (SWIFT code) of 8 or 11 characters whose country is the account's, and the
  currency the bank is to credit, an ISO 4217 code.

No Django here: the services call :func:`validate` and store what it returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pycountry
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from schwifty.registry import get_iban_spec
from stdnum.us import rtn

from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import country as country_lookup


@dataclass(frozen=True, slots=True)
class CountryRule:
    """How a country without IBAN writes its accounts (``bank_code`` may be "" = not used)."""

    account: str  # regular expression for the account number (spaces and dashes removed)
    account_hint: str
    bank_code: str  # regular expression for the bank code, "" when the country has none
    bank_code_hint: str
    clearing_system: str = ""  # ISO 20022 ExternalClearingSystemIdentification1Code
    check: str = ""  # a check-digit routine for the bank code: "aba"


COUNTRY_RULES: dict[str, CountryRule] = {
    "USA": CountryRule(
        r"\d{4,17}", "4 to 17 digits", r"\d{9}", "the 9-digit ABA routing number", "USABA", "aba"
    ),
    "CAN": CountryRule(
        r"\d{7,12}",
        "7 to 12 digits",
        r"0\d{8}",
        "0 + 3-digit institution + 5-digit transit number",
        "CACPA",
    ),
    "AUS": CountryRule(r"\d{5,9}", "5 to 9 digits", r"\d{6}", "the 6-digit BSB", "AUBSB"),
    "JPN": CountryRule(
        r"\d{7}", "7 digits", r"\d{7}", "4-digit bank code + 3-digit branch code", "JPZGN"
    ),
    "KOR": CountryRule(r"\d{10,14}", "10 to 14 digits", r"\d{3}", "the 3-digit bank code"),
    "IND": CountryRule(
        r"\d{9,18}", "9 to 18 digits", r"[A-Z]{4}0[A-Z0-9]{6}", "the 11-character IFSC", "INFSC"
    ),
    "NZL": CountryRule(
        r"\d{15,16}", "15 or 16 digits (bank, branch, account, suffix)", "", "", "NZNCC"
    ),
    "SGP": CountryRule(r"\d{7,14}", "7 to 14 digits", r"\d{4}", "the 4-digit bank code"),
}
# An heir may be paid in China (an inheritance is not a payment abroad): the account number of a
# Chinese bank card or account, and optionally the 12-digit CNAPS code of the branch.
CHINA = CountryRule(
    r"\d{10,30}", "10 to 30 digits", r"(\d{12})?", "the 12-digit CNAPS code (optional)", "CNAPS"
)
GENERIC = CountryRule(
    r"[A-Z0-9]{1,34}",
    "1 to 34 letters and digits",
    r"[A-Z0-9]{0,20}",
    "up to 20 letters and digits",
)

_SEPARATORS = re.compile(r"[\s\-./]")


@dataclass(frozen=True, slots=True)
class CheckedAccount:
    country: str  # ISO 3166-1 alpha-3
    iban: str  # compact, "" when the country does not use IBAN
    account_number: str  # "" when an IBAN is given
    bank_code: str
    bic: str  # 11 characters
    currency: str
    clearing_system: str


def alpha2(alpha3: str) -> str:
    found = pycountry.countries.get(alpha_3=alpha3)
    return str(found.alpha_2) if found is not None else ""


def uses_iban(alpha3: str) -> bool:
    code = alpha2(alpha3)
    if not code:
        return False
    try:
        spec = get_iban_spec(code)
    except SchwiftyException:
        return False
    return not getattr(spec, "aspirational", False)


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def validate(
    *,
    country: str,
    iban: str,
    account_number: str,
    bank_code: str,
    bic: str,
    currency: str,
    in_china: bool = False,
) -> CheckedAccount:
    """The account in compact form, or the first problem as a RuleError naming its field.
    ``in_china``: a bank in China is taken too (an heir's account; a lump sum goes abroad)."""
    found = country_lookup(country, field="country")
    cc = found.alpha3
    a2 = alpha2(cc)
    if a2 == "CN" and not in_china:
        raise RuleError(
            "bank_in_china", "a lump sum abroad is paid to a bank outside China", "country"
        )
    iban_c, number_c, code_c = _compact(iban), _compact(account_number), _compact(bank_code)
    rule = CHINA if a2 == "CN" else COUNTRY_RULES.get(cc, GENERIC)
    if uses_iban(cc):
        if not iban_c:
            raise RuleError(
                "iban_required", f"banks in {found.name} use IBAN: enter the IBAN", "iban"
            )
        try:
            parsed = IBAN(iban_c)
        except SchwiftyException as exc:
            raise RuleError("invalid_iban", f"not a valid IBAN: {exc}", "iban") from None
        if parsed.country_code != a2:
            raise RuleError(
                "iban_country",
                f"this IBAN is of {parsed.country_code}, not of {found.name}",
                "iban",
            )
        iban_c, number_c, code_c = str(parsed.compact), "", ""
        clearing = ""
    else:
        if iban_c:
            raise RuleError(
                "iban_not_used",
                f"banks in {found.name} do not use IBAN: enter the account number and bank code",
                "iban",
            )
        if not re.fullmatch(rule.account, number_c):
            raise RuleError(
                "invalid_account_number",
                f"the account number must be {rule.account_hint}",
                "account_number",
            )
        if rule.bank_code and not re.fullmatch(rule.bank_code, code_c):
            raise RuleError(
                "invalid_bank_code", f"the bank code must be {rule.bank_code_hint}", "bank_code"
            )
        if not rule.bank_code and code_c:
            raise RuleError(
                "bank_code_not_used", "banks in this country use no separate bank code", "bank_code"
            )
        if rule.check == "aba" and not rtn.is_valid(code_c):
            raise RuleError(
                "invalid_bank_code", "this ABA routing number fails its check digit", "bank_code"
            )
        clearing = rule.clearing_system
    bic_c = _compact(bic)
    try:
        parsed_bic = BIC(bic_c)
    except SchwiftyException as exc:
        raise RuleError("invalid_bic", f"not a valid BIC (SWIFT code): {exc}", "bic") from None
    if parsed_bic.country_code != a2:
        raise RuleError(
            "bic_country",
            f"this BIC is of a bank in {parsed_bic.country_code}, not in {found.name}",
            "bic",
        )
    full_bic = str(parsed_bic.compact)
    if len(full_bic) == 8:
        full_bic += "XXX"
    cur = (currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", cur) or pycountry.currencies.get(alpha_3=cur) is None:
        raise RuleError(
            "invalid_currency", "write the currency as an ISO 4217 code, e.g. EUR", "currency"
        )
    return CheckedAccount(cc, iban_c, number_c, code_c, full_bic, cur, clearing)
