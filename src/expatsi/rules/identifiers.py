"""Identifier checks: resident ID, permanent resident IDs, USCC, passport, foreigners' SSN.

Why our own code: python-stdnum lacks the foreigner card layouts and gives no reason on failure, and
a clerk at a counter needs to hear *which* character is wrong and what it should be. Every result
says how sure we are of the layout it checked (policy-facts.md section 4): the citizen ID and the
USCC are standards, the 2023 permanent resident card's middle fields are SECONDARY, the pre-2023
card's layout is UNCONFIRMED and the foreigners' social security number layout is our CONVENTION.

Detection (``check_id`` without a kind) tries every validator. A number valid under one structured
kind is reported as that kind, precedence: ``resident_id`` > ``permanent_resident_id`` >
``foreigner_ssn`` > ``uscc`` > ``permanent_resident_id_old``; every other structured kind it is
also valid as goes to ``also_valid_as`` (passport syntax is never listed there: almost anything
passes it). A number valid under no structured kind but shaped like one is reported as the kind
whose checks it got furthest through (ties by the same precedence), invalid, with the reason; only
text shaped like none of them is treated as a passport number.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Literal, Protocol

from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.policy import Provenance, Status, read_table

Sex = Literal["male", "female"]

RESIDENT_ID = "resident_id"
PERMANENT_RESIDENT_ID = "permanent_resident_id"
PERMANENT_RESIDENT_ID_OLD = "permanent_resident_id_old"
USCC = "uscc"
FOREIGNER_SSN = "foreigner_ssn"
PASSPORT = "passport"
UNKNOWN = "unknown"

# Precedence order for detection (see module docstring); passport is the fallback, not ranked.
KINDS: tuple[str, ...] = (
    RESIDENT_ID,
    PERMANENT_RESIDENT_ID,
    FOREIGNER_SSN,
    USCC,
    PERMANENT_RESIDENT_ID_OLD,
    PASSPORT,
)

# How sure we are of each layout (policy-facts.md section 4; GB 32100-2015 for the USCC).
LAYOUT_PROVENANCE: Mapping[str, Provenance] = {
    RESIDENT_ID: Provenance(Status.CONFIRMED, "GB 11643-1999; policy-facts.md 4.2"),
    PERMANENT_RESIDENT_ID: Provenance(
        Status.SECONDARY,
        "Foreign Permanent Resident ID Card (2023 edition), policy-facts.md 4.3",
        "leading 9 and MOD 11-2 check CONFIRMED; province, nationality, birth and sequence "
        "fields SECONDARY",
    ),
    PERMANENT_RESIDENT_ID_OLD: Provenance(
        Status.UNCONFIRMED,
        "Pre-2023 permanent resident card, policy-facts.md 4.3",
        "only the format 3 letters + 12 digits is known; layout and check digit UNCONFIRMED",
    ),
    USCC: Provenance(Status.CONFIRMED, "GB 32100-2015 (Unified Social Credit Code)"),
    FOREIGNER_SSN: Provenance(
        Status.CONVENTION,
        "expatsi CONVENTION, policy-facts.md Conventions and 4.1",
        "the official coding rule was not available; numbers an agency already issued in another "
        "format are accepted as they are",
    ),
    PASSPORT: Provenance(Status.CONFIRMED, "ICAO Doc 9303 (document number: letters and digits)"),
}

# GB/T 2260 province-level codes: the first two digits of a six-digit division code.
PROVINCES: Mapping[str, tuple[str, str]] = {
    "11": ("Beijing", "北京市"),
    "12": ("Tianjin", "天津市"),
    "13": ("Hebei", "河北省"),
    "14": ("Shanxi", "山西省"),
    "15": ("Inner Mongolia", "内蒙古自治区"),
    "21": ("Liaoning", "辽宁省"),
    "22": ("Jilin", "吉林省"),
    "23": ("Heilongjiang", "黑龙江省"),
    "31": ("Shanghai", "上海市"),
    "32": ("Jiangsu", "江苏省"),
    "33": ("Zhejiang", "浙江省"),
    "34": ("Anhui", "安徽省"),
    "35": ("Fujian", "福建省"),
    "36": ("Jiangxi", "江西省"),
    "37": ("Shandong", "山东省"),
    "41": ("Henan", "河南省"),
    "42": ("Hubei", "湖北省"),
    "43": ("Hunan", "湖南省"),
    "44": ("Guangdong", "广东省"),
    "45": ("Guangxi", "广西壮族自治区"),
    "46": ("Hainan", "海南省"),
    "50": ("Chongqing", "重庆市"),
    "51": ("Sichuan", "四川省"),
    "52": ("Guizhou", "贵州省"),
    "53": ("Yunnan", "云南省"),
    "54": ("Tibet", "西藏自治区"),
    "61": ("Shaanxi", "陕西省"),
    "62": ("Gansu", "甘肃省"),
    "63": ("Qinghai", "青海省"),
    "64": ("Ningxia", "宁夏回族自治区"),
    "65": ("Xinjiang", "新疆维吾尔自治区"),
}
# Also valid in citizen ID numbers (and HK/Macao/Taiwan residence permits, which share the layout),
# never as the issuing place of a foreigner's card or social security number.
OTHER_REGIONS: Mapping[str, tuple[str, str]] = {
    "71": ("Taiwan", "台湾省"),
    "81": ("Hong Kong", "香港特别行政区"),
    "82": ("Macao", "澳门特别行政区"),
    "83": ("Taiwan (residence permit)", "台湾居民居住证"),
}

# Nationalities that are not foreign: a foreigner's card or SSN cannot carry them.
NOT_FOREIGN: frozenset[str] = frozenset({"CHN", "HKG", "MAC", "TWN"})

_MOD11_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_MOD11_CHARS = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_AUTHORITIES = {
    "1": "institutional staffing (机构编制)",
    "5": "civil affairs (民政)",
    "9": "market regulation (工商)",
    "Y": "other (其他)",
}
_EARLIEST_BIRTH = date(1850, 1, 1)
# re.ASCII: ``\d`` alone also matches full-width digits (１２３), which no register would match.
_ID18_RE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_OLD_PR_RE = re.compile(r"^[A-Z]{3}\d{12}$", re.ASCII)
_PASSPORT_RE = re.compile(r"^[A-Z0-9]+$")

# How far a check got before failing: lets detection report the most plausible kind.
_SHAPE, _FIELDS, _CHECK, _VALID = 0, 1, 2, 3


# ---------------------------------------------------------------------------------------------
# Countries


@dataclass(frozen=True, slots=True)
class Country:
    """One ISO 3166-1 entry; ``numeric`` keeps its leading zeros ("004")."""

    alpha3: str
    numeric: str
    name: str
    name_zh: str


@cache
def _country_tables() -> tuple[dict[str, Country], dict[str, Country]]:
    """Load national/countries.toml once: by alpha-3 and by numeric code, validated."""
    t = read_table("national/countries.toml")
    t.table("meta").provenance()
    rows = t.table("countries")
    by_alpha: dict[str, Country] = {}
    by_numeric: dict[str, Country] = {}
    for code in list(rows.data):
        row = rows.table(code)
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise rows.error(code, "key must be an ISO 3166-1 alpha-3 code in capitals, e.g. DEU")
        numeric = row.str("numeric")
        if not re.fullmatch(r"\d{3}", numeric):
            raise row.error("numeric", f'{numeric!r} must be three digits as a string, e.g. "276"')
        if numeric in by_numeric:
            raise row.error("numeric", f"{numeric} is also used by {by_numeric[numeric].alpha3}")
        entry = Country(code, numeric, row.str("name"), row.str("name_zh"))
        by_alpha[code] = entry
        by_numeric[numeric] = entry
    if not by_alpha:
        raise PolicyDataError(t.file, "countries", "is empty")
    return by_alpha, by_numeric


def countries() -> tuple[Country, ...]:
    """Every country in the table, by alpha-3 code."""
    return tuple(sorted(_country_tables()[0].values(), key=lambda c: c.alpha3))


def country(alpha3: str, *, field: str = "nationality") -> Country:
    """The country for an ISO 3166-1 alpha-3 code (case and spaces ignored)."""
    code = str(alpha3).strip().upper()
    found = _country_tables()[0].get(code)
    if found is None:
        raise RuleError(
            "unknown_country",
            f"{alpha3!r} is not an ISO 3166-1 alpha-3 country code; write three letters, "
            "e.g. DEU for Germany, USA, GBR, JPN, KOR",
            field,
        )
    return found


def country_by_numeric(numeric: str, *, field: str = "nationality") -> Country:
    """The country for an ISO 3166-1 numeric code such as ``"276"``."""
    found = _country_tables()[1].get(str(numeric).strip().zfill(3))
    if found is None:
        raise RuleError(
            "unknown_country",
            f"{numeric!r} is not an ISO 3166-1 numeric country code; e.g. 276 for Germany",
            field,
        )
    return found


def province_name(code: str) -> str:
    """English name of a province-level code (including 71/81/82/83), or "" if unknown."""
    entry = PROVINCES.get(code) or OTHER_REGIONS.get(code)
    return entry[0] if entry else ""


def issuing_province(code: str, *, field: str = "province") -> str:
    """Validate the 2-digit code of a mainland province that issues foreigners' numbers."""
    text = str(code).strip()
    if text not in PROVINCES:
        examples = ", ".join(f"{k} {v[0]}" for k, v in list(PROVINCES.items())[:3])
        raise RuleError(
            "invalid_province",
            f"{code!r} is not a mainland province code; use the first two digits of the "
            f"administrative division code ({examples}, 31 Shanghai, 44 Guangdong …; "
            f"accepted: {' '.join(PROVINCES)})",
            field,
        )
    return text


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class IdCheck:
    """The answer to "is this a valid X?": a reason either way, and what the number encodes."""

    kind: str
    valid: bool
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)
    also_valid_as: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "valid": self.valid,
            "reason": self.reason,
            "details": dict(self.details),
            "also_valid_as": list(self.also_valid_as),
        }


@dataclass(frozen=True, slots=True)
class _Outcome:
    check: IdCheck
    progress: int


def _clean(text: str) -> str:
    return re.sub(r"[\s\-]", "", str(text)).upper()


def _fail(kind: str, number: str, progress: int, reason: str, **extra: Any) -> _Outcome:
    details: dict[str, Any] = {
        "number": number,
        "layout_status": LAYOUT_PROVENANCE[kind].status.value,
    }
    details.update(extra)
    return _Outcome(IdCheck(kind, False, reason, details), progress)


def _ok(kind: str, number: str, reason: str, **extra: Any) -> _Outcome:
    details: dict[str, Any] = {
        "number": number,
        "layout_status": LAYOUT_PROVENANCE[kind].status.value,
    }
    details.update(extra)
    return _Outcome(IdCheck(kind, True, reason, details), _VALID)


def mod11_2_check(body: str) -> str:
    """ISO 7064 MOD 11-2 check character over 17 digits (GB 11643): ``"10X98765432"[Σ % 11]``."""
    if len(body) != 17 or not (body.isascii() and body.isdigit()):
        raise ValueError("MOD 11-2 needs exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(body, _MOD11_WEIGHTS, strict=True))
    return _MOD11_CHARS[total % 11]


def _bad_char(number: str, allowed: str, what: str, *, first: int = 1) -> str | None:
    for i, ch in enumerate(number, start=first):
        if ch not in allowed:
            return f"character {ch!r} at position {i} is not allowed; {what}"
    return None


def _birth(text: str, today: date) -> date | None:
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
    return born if _EARLIEST_BIRTH <= born <= today else None


def _check_18(number: str, what: str) -> str | None:
    """Shape of an 18-character MOD 11-2 number, or why not."""
    if len(number) != 18:
        return f"has {len(number)} characters; {what} has 18 (17 digits and a check digit 0–9 or X)"
    return _bad_char(
        number[:17], "0123456789", "positions 1–17 must be digits, position 18 a digit or X"
    ) or _bad_char(number[17], "0123456789X", "position 18 must be a digit or X", first=18)


def _check_char_reason(number: str) -> str | None:
    expected = mod11_2_check(number[:17])
    if number[17] != expected:
        return (
            f"check character is {number[17]} but should be {expected} "
            "(ISO 7064 MOD 11-2 over the first 17 digits); a digit is probably mistyped"
        )
    return None


# ---------------------------------------------------------------------------------------------
# Validators


def _resident_id(text: str, today: date) -> _Outcome:
    kind, number = RESIDENT_ID, _clean(text)
    what = "a resident ID number"
    if problem := _check_18(number, what):
        return _fail(kind, number, _SHAPE, problem)
    if number[0] == "9":
        return _fail(
            kind,
            number,
            _SHAPE,
            "starts with 9, which marks a foreigner's number; a resident ID number starts with 1–8",
        )
    if number[0] == "0":
        return _fail(kind, number, _SHAPE, "starts with 0; a resident ID number starts with 1–8")
    prefix = number[:2]
    if not province_name(prefix):
        return _fail(
            kind,
            number,
            _FIELDS,
            f"region code {number[:6]} (positions 1–6) starts with {prefix}, which is not a "
            "province code (11 Beijing … 65 Xinjiang, 71, 81, 82, 83)",
        )
    born = _birth(number[6:14], today)
    if born is None:
        return _fail(
            kind,
            number,
            _FIELDS,
            f"birth date {number[6:14]} (positions 7–14) is not a real past date YYYYMMDD",
        )
    if problem := _check_char_reason(number):
        return _fail(kind, number, _CHECK, problem)
    sex: Sex = "male" if int(number[16]) % 2 else "female"
    return _ok(
        kind,
        number,
        "valid resident ID number (GB 11643-1999): layout, birth date and check digit",
        region_code=number[:6],
        province=province_name(prefix),
        birth=born.isoformat(),
        sex=sex,
        sequence=number[14:17],
    )


def _nine_layout(
    text: str, kind: str, today: date, *, what: str, zero_sequence_ok: bool
) -> _Outcome:
    """The 2023 permanent resident ID layout, shared by our foreigners' SSN convention."""
    number = _clean(text)
    if problem := _check_18(number, what):
        return _fail(kind, number, _SHAPE, problem)
    if number[0] != "9":
        return _fail(
            kind,
            number,
            _SHAPE,
            f"starts with {number[0]}; {what} starts with 9 (1–8 would be a citizen's ID)",
        )
    prov = number[1:3]
    if prov not in PROVINCES:
        return _fail(
            kind,
            number,
            _FIELDS,
            f"province code {prov} (positions 2–3) is not a mainland province code "
            f"(accepted: {' '.join(PROVINCES)})",
        )
    numeric = number[3:6]
    try:
        nat = country_by_numeric(numeric)
    except RuleError:
        return _fail(
            kind,
            number,
            _FIELDS,
            f"nationality code {numeric} (positions 4–6) is not an ISO 3166-1 numeric code "
            "(e.g. 276 Germany, 840 United States)",
        )
    if nat.alpha3 in NOT_FOREIGN:
        return _fail(
            kind,
            number,
            _FIELDS,
            f"nationality code {numeric} is {nat.name}, not a foreign nationality",
        )
    born = _birth(number[6:14], today)
    if born is None:
        return _fail(
            kind,
            number,
            _FIELDS,
            f"birth date {number[6:14]} (positions 7–14) is not a real past date YYYYMMDD",
        )
    if not zero_sequence_ok and number[14:17] == "000":
        return _fail(
            kind, number, _FIELDS, "sequence 000 (positions 15–17) is never assigned; 001–999"
        )
    if problem := _check_char_reason(number):
        return _fail(kind, number, _CHECK, problem)
    sex: Sex = "male" if int(number[16]) % 2 else "female"
    return _ok(
        kind,
        number,
        "",
        province_code=prov,
        province=PROVINCES[prov][0],
        nationality=nat.alpha3,
        nationality_numeric=numeric,
        nationality_name=nat.name,
        birth=born.isoformat(),
        sex=sex,
        sequence=number[14:17],
    )


def _permanent_resident_id(text: str, today: date) -> _Outcome:
    out = _nine_layout(
        text,
        PERMANENT_RESIDENT_ID,
        today,
        what="a Foreign Permanent Resident ID Card number (2023 edition)",
        zero_sequence_ok=True,
    )
    if not out.check.valid:
        return out
    reason = (
        "valid Foreign Permanent Resident ID Card number (2023 edition): leading 9 and MOD 11-2 "
        "check digit; province, nationality, birth date and sequence read by the SECONDARY layout"
    )
    return _Outcome(IdCheck(out.check.kind, True, reason, out.check.details), _VALID)


def _permanent_resident_id_old(text: str) -> _Outcome:
    kind, number = PERMANENT_RESIDENT_ID_OLD, _clean(text)
    caveat = (
        "the pre-2023 card's field layout and check digit are UNCONFIRMED, "
        "so only the format was checked"
    )
    if len(number) != 15:
        return _fail(
            kind,
            number,
            _SHAPE,
            f"has {len(number)} characters; a pre-2023 permanent resident card number has 15 "
            "(3 letters + 12 digits)",
        )
    if not _OLD_PR_RE.match(number):
        return _fail(
            kind,
            number,
            _SHAPE,
            "a pre-2023 permanent resident card number is 3 letters (nationality, ISO 3166-1 "
            "alpha-3) followed by 12 digits",
        )
    try:
        nat = country(number[:3])
    except RuleError:
        return _fail(
            kind,
            number,
            _FIELDS,
            f"{number[:3]} (positions 1–3) is not an ISO 3166-1 alpha-3 nationality code "
            "(e.g. DEU, USA, JPN)",
        )
    if nat.alpha3 in NOT_FOREIGN:
        return _fail(
            kind, number, _FIELDS, f"nationality {nat.alpha3} is not a foreign nationality"
        )
    return _ok(
        kind,
        number,
        f"format valid (3-letter nationality + 12 digits); {caveat}",
        nationality=nat.alpha3,
        nationality_name=nat.name,
    )


def uscc_check_char(body: str) -> str:
    """GB 32100-2015 check character over the first 17 characters (MOD 31 on its alphabet)."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def _uscc(text: str) -> _Outcome:
    """Own implementation: python-stdnum rejects letters in position 1 (authority code Y exists)."""
    kind, number = USCC, _clean(text)
    if len(number) != 18:
        return _fail(
            kind,
            number,
            _SHAPE,
            f"has {len(number)} characters; a Unified Social Credit Code has 18",
        )
    if problem := _bad_char(
        number, _USCC_ALPHABET, "a USCC uses digits and the capitals A–Y without I, O, S, V, Z"
    ):
        return _fail(kind, number, _SHAPE, problem)
    if problem := _bad_char(
        number[2:8], "0123456789", "positions 3–8 (region code) must be digits", first=3
    ):
        return _fail(kind, number, _SHAPE, problem)
    expected = uscc_check_char(number[:17])
    if number[17] != expected:
        return _fail(
            kind,
            number,
            _CHECK,
            f"check character is {number[17]} but should be {expected} (GB 32100-2015, MOD 31)",
        )
    return _ok(
        kind,
        number,
        "valid Unified Social Credit Code (GB 32100-2015): characters and check character",
        registration_authority=number[0],
        registration_authority_name=_USCC_AUTHORITIES.get(number[0], ""),
        entity_type=number[1],
        region_code=number[2:8],
        province=province_name(number[2:4]),
        organisation_code=number[8:17],
    )


def _passport(text: str) -> _Outcome:
    kind = PASSPORT
    number = re.sub(r"\s", "", str(text)).upper()
    if not 5 <= len(number) <= 20:
        return _fail(
            kind,
            number,
            _SHAPE,
            f"has {len(number)} characters after removing spaces; a passport number has 5–20 "
            "letters A–Z and digits",
        )
    if problem := _bad_char(
        number, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "use only letters A–Z and digits"
    ):
        return _fail(kind, number, _SHAPE, problem)
    return _ok(
        kind,
        number,
        "syntax valid (5–20 letters and digits); a passport number carries no check digit of its "
        "own outside the MRZ, so nothing more can be checked",
    )


# ---------------------------------------------------------------------------------------------
# Foreigners' social security numbers


class SequenceStore(Protocol):
    """Hands out sequence numbers; the database-backed store lives outside the rules package."""

    def next_sequence(self, key: str, parity: int) -> int:
        """The next unused number in 1..999 with ``parity`` (1 odd, 0 even) for ``key``, never
        the same twice; raises RuleError ``sequence_exhausted`` when none is left."""
        ...


class SsnScheme(Protocol):
    """A coding rule for foreigners' social security numbers (pluggable until the official one is
    known, policy-facts.md 4.1)."""

    def assign(
        self, *, province: str, nationality: str, birth: date, sex: Sex, store: SequenceStore
    ) -> str: ...

    def validate(self, number: str) -> IdCheck: ...


class InMemorySequenceStore:
    """Thread-safe in-process store for tests and the CLI; forgets everything at process exit."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def next_sequence(self, key: str, parity: int) -> int:
        if parity not in (0, 1):
            raise ValueError("parity must be 1 (odd) or 0 (even)")
        with self._lock:
            value = self._next.get((key, parity), 1 if parity else 2)
            if value > 999:
                kind = "odd (male)" if parity else "even (female)"
                raise RuleError(
                    "sequence_exhausted",
                    f"all {kind} sequence numbers 1–999 for {key} are used; no number can be "
                    "assigned under this scheme",
                    "sequence",
                )
            self._next[(key, parity)] = value + 2
            return value


class ConventionSsnScheme:
    """expatsi's CONVENTION: ``9`` + province (2) + ISO numeric nationality (3) + YYYYMMDD +
    sequence (3, odd male / even female) + MOD 11-2, mirroring the 2023 permanent resident ID."""

    name = "convention"
    provenance = LAYOUT_PROVENANCE[FOREIGNER_SSN]

    def assign(
        self, *, province: str, nationality: str, birth: date, sex: Sex, store: SequenceStore
    ) -> str:
        prov = issuing_province(province)
        nat = country(nationality, field="nationality")
        if nat.alpha3 in NOT_FOREIGN:
            raise RuleError(
                "not_a_foreigner",
                f"{nat.alpha3} ({nat.name}) is not a foreign nationality; foreigners' social "
                "security numbers are for foreign nationals only",
                "nationality",
            )
        if not isinstance(birth, date) or not _EARLIEST_BIRTH <= birth <= date.today():
            raise RuleError(
                "invalid_birth", f"birth date {birth} must be a past date after 1850", "birth"
            )
        if sex not in ("male", "female"):
            raise RuleError("invalid_sex", f"sex {sex!r} must be 'male' or 'female'", "sex")
        prefix = f"9{prov}{nat.numeric}{birth:%Y%m%d}"
        parity = 1 if sex == "male" else 0
        seq = store.next_sequence(prefix, parity)
        if not 1 <= seq <= 999 or seq % 2 != parity:
            raise ValueError(f"sequence store returned {seq} for parity {parity}")
        body = f"{prefix}{seq:03d}"
        return body + mod11_2_check(body)

    def validate(self, number: str) -> IdCheck:
        return _foreigner_ssn(number, date.today()).check


def _foreigner_ssn(text: str, today: date) -> _Outcome:
    out = _nine_layout(
        text,
        FOREIGNER_SSN,
        today,
        what="a foreigner's social security number (expatsi convention)",
        zero_sequence_ok=False,
    )
    if not out.check.valid:
        return out
    reason = (
        "valid under expatsi's CONVENTION for foreigners' social security numbers (same layout as "
        "the 2023 permanent resident ID); the official coding rule is not known"
    )
    return _Outcome(IdCheck(FOREIGNER_SSN, True, reason, out.check.details), _VALID)


DEFAULT_SSN_SCHEME: SsnScheme = ConventionSsnScheme()


# ---------------------------------------------------------------------------------------------
# One entry point


def _run(kind: str, text: str, today: date) -> _Outcome:
    if kind == RESIDENT_ID:
        return _resident_id(text, today)
    if kind == PERMANENT_RESIDENT_ID:
        return _permanent_resident_id(text, today)
    if kind == FOREIGNER_SSN:
        return _foreigner_ssn(text, today)
    if kind == USCC:
        return _uscc(text)
    if kind == PERMANENT_RESIDENT_ID_OLD:
        return _permanent_resident_id_old(text)
    return _passport(text)


def check_id(text: str, kind: str | None = None, *, today: date | None = None) -> IdCheck:
    """Check ``text`` as ``kind``, or detect the kind (precedence in the module docstring).

    An invalid number is an answer (``valid=False`` with a reason), not an error; an unknown
    ``kind`` raises RuleError ``unknown_id_kind``.
    """
    day = today or date.today()
    if kind is not None:
        wanted = str(kind).strip().lower()
        if wanted not in KINDS:
            raise RuleError(
                "unknown_id_kind",
                f"{kind!r} is not an identifier kind; accepted: {', '.join(KINDS)}",
                "kind",
            )
        outcome = _run(wanted, text, day)
        others = [k for k in KINDS[:-1] if k != wanted and _run(k, text, day).check.valid]
        return _with_also(outcome.check, others)

    if not _clean(text):
        return IdCheck(UNKNOWN, False, "empty: enter an identifier number", {"number": ""})
    structured = [_run(k, text, day) for k in KINDS[:-1]]
    valid = [o.check for o in structured if o.check.valid]
    if valid:
        return _with_also(valid[0], [c.kind for c in valid[1:]])
    shaped = [o for o in structured if o.progress > _SHAPE]
    if not shaped:
        # Shape only: an 18-character number of the right alphabet counts as shaped too.
        shaped = [o for o in structured if _looks_like(o.check.kind, _clean(text))]
    if shaped:
        best = max(shaped, key=lambda o: o.progress)  # max keeps the first of equals: precedence
        pr_reason = next(
            (o.check.reason for o in shaped if o.check.kind == PERMANENT_RESIDENT_ID), None
        )
        rejected = {
            o.check.kind: o.check.reason
            for o in shaped
            if o is not best and not (o.check.kind == FOREIGNER_SSN and o.check.reason == pr_reason)
        }
        details = dict(best.check.details)
        if rejected:
            details["also_checked"] = rejected
        reason = f"{best.check.reason} (if this is a passport number, check it as kind passport)"
        return IdCheck(best.check.kind, False, reason, details)
    passport = _passport(text).check
    if passport.valid:
        return passport
    return IdCheck(
        UNKNOWN,
        False,
        "not recognised as a resident ID (18), permanent resident ID (18 starting 9, or 3 letters "
        f"+ 12 digits), USCC (18) or passport number (5–20 letters and digits): {passport.reason}",
        {"number": passport.details.get("number", "")},
    )


def _looks_like(kind: str, number: str) -> bool:
    """Has the length and alphabet of ``kind`` even though a leading field is wrong."""
    if kind in (RESIDENT_ID, PERMANENT_RESIDENT_ID, FOREIGNER_SSN):
        return bool(_ID18_RE.match(number)) and kind == (
            RESIDENT_ID if number[0] != "9" else PERMANENT_RESIDENT_ID
        )
    if kind == USCC:
        return len(number) == 18 and all(c in _USCC_ALPHABET for c in number)
    if kind == PERMANENT_RESIDENT_ID_OLD:
        return bool(_OLD_PR_RE.match(number))
    return False


def _with_also(check: IdCheck, others: list[str]) -> IdCheck:
    if not others:
        return check
    return IdCheck(check.kind, check.valid, check.reason, check.details, tuple(others))


def describe_ssn(number: str) -> IdCheck:
    """Validate under the default scheme (convenience for callers that hold only a number)."""
    return DEFAULT_SSN_SCHEME.validate(number)
