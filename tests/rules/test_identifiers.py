"""Identifier checks and foreigners' SSN assignment.

Golden numbers were worked by hand with the GB 11643 weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2:
for 9 11 276 19800517 001 the weighted sum is 323, 323 mod 11 = 4 → check "8"; sequence 002 adds 2
(sum 325, mod 11 = 6 → "6"); sequence 003 adds 4 (327, mod 11 = 8 → "4"); sequence 014 adds 10
(333, mod 11 = 3 → "9"). USCC values are cross-checked with python-stdnum, an independent code base.
"""

import threading
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import (
    PROVINCES,
    ConventionSsnScheme,
    InMemorySequenceStore,
    check_id,
    countries,
    country,
    country_by_numeric,
    mod11_2_check,
    uscc_check_char,
)

TODAY = date(2026, 6, 1)


def check(text, kind=None):
    return check_id(text, kind, today=TODAY)


# --- resident ID -------------------------------------------------------------------------------


def test_gb11643_example_is_valid_and_decoded():
    r = check("11010519491231002X")
    assert (r.kind, r.valid) == ("resident_id", True)
    assert r.details["birth"] == "1949-12-31"
    assert r.details["sex"] == "female"  # 17th digit 2 is even
    assert r.details["province"] == "Beijing"
    assert r.also_valid_as == ()


def test_lowercase_x_and_spaces_are_accepted():
    assert check("110105 19491231 002x").valid


def test_mod11_2_check_of_the_example():
    # Σ = 167, 167 mod 11 = 2 → "X"
    assert mod11_2_check("11010519491231002") == "X"


def test_wrong_check_digit_says_which_was_expected():
    r = check("110105194912310021", "resident_id")
    assert not r.valid
    assert "is 1 but should be X" in r.reason


def test_impossible_birth_date():
    r = check("110105194913310021", "resident_id")
    assert not r.valid
    assert "birth date 19491331" in r.reason


def test_future_birth_date_is_refused():
    assert "birth date" in check("110105203001010010", "resident_id").reason


def test_unknown_province_prefix():
    r = check("190105194912310021", "resident_id")
    assert not r.valid
    assert "not a province code" in r.reason


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("11010519491231002", "has 17 characters"),
        ("1101051949123100AX", "'A' at position 17"),
        ("01010519491231002X", "starts with 0"),
        ("911276198005170018", "starts with 9"),
    ],
)
def test_resident_id_shape_errors(text, words):
    r = check(text, "resident_id")
    assert not r.valid
    assert words in r.reason


@given(
    prefix=st.sampled_from(sorted(PROVINCES)),
    rest=st.integers(0, 9999),
    born=st.dates(date(1900, 1, 1), date(2020, 12, 31)),
    seq=st.integers(0, 999),
)
def test_check_digit_agrees_with_python_stdnum(prefix, rest, born, seq):
    body = f"{prefix}{rest:04d}{born:%Y%m%d}{seq:03d}"
    assert mod11_2_check(body) == ric.calc_check_digit(body + "0")
    assert check(body + mod11_2_check(body), "resident_id").valid


# --- permanent resident IDs ------------------------------------------------------------------


def test_permanent_resident_id_2023_is_decoded_and_also_an_ssn():
    r = check("911276198005170018")
    assert (r.kind, r.valid) == ("permanent_resident_id", True)
    assert r.details["nationality"] == "DEU"
    assert r.details["birth"] == "1980-05-17"
    assert r.details["sex"] == "male"
    assert r.details["province"] == "Beijing"
    assert "foreigner_ssn" in r.also_valid_as


def test_permanent_resident_id_wrong_check():
    r = check("911276198005170019", "permanent_resident_id")
    assert not r.valid
    assert "should be 8" in r.reason


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("999276198005170018", "province code 99"),
        ("911999198005170018", "nationality code 999"),
        ("911156198005170018", "not a foreign nationality"),  # 156 = China
        ("911276198013170018", "birth date 19801317"),
    ],
)
def test_permanent_resident_id_field_errors(text, words):
    r = check(text, "permanent_resident_id")
    assert not r.valid
    assert words in r.reason


def test_old_card_format_only_and_says_so():
    r = check("deu123456789012")
    assert (r.kind, r.valid) == ("permanent_resident_id_old", True)
    assert "UNCONFIRMED" in r.reason
    assert r.details["nationality"] == "DEU"


def test_old_card_with_an_invented_nationality():
    r = check("XYZ123456789012", "permanent_resident_id_old")
    assert not r.valid
    assert "XYZ" in r.reason


def test_old_card_wrong_length():
    assert "has 14 characters" in check("DEU12345678901", "permanent_resident_id_old").reason


# --- USCC ------------------------------------------------------------------------------------


def test_uscc_example():
    r = check("91110000600037341L")
    assert (r.kind, r.valid) == ("uscc", True)
    assert r.details["region_code"] == "110000"


def test_uscc_wrong_check_character_names_the_expected_one():
    r = check("91110000600037341A", "uscc")
    assert not r.valid
    assert "is A but should be L" in r.reason


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("91110000600037341", "has 17 characters"),
        ("9111000060003734IL", "'I' at position 17"),
        ("911A0000600037341L", "position 4"),
    ],
)
def test_uscc_shape_errors(text, words):
    r = check(text, "uscc")
    assert not r.valid
    assert words in r.reason


def test_uscc_with_letter_authority_code_is_accepted():
    # stdnum.validate refuses a letter in position 1; GB 32100 has authority code Y ("other").
    body = "Y1110000600037341"
    number = body + uscc.calc_check_digit(body)
    assert check(number, "uscc").valid


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9))
def test_uscc_check_agrees_with_python_stdnum(org):
    body = f"91110000{org}"
    assert uscc_check_char(body) == uscc.calc_check_digit(body)
    assert check(body + uscc_check_char(body), "uscc").valid


# --- passport and detection ------------------------------------------------------------------


def test_passport_syntax():
    r = check("e1234 5678")
    assert (r.kind, r.valid) == ("passport", True)
    assert r.details["number"] == "E12345678"


@pytest.mark.parametrize(
    ("text", "words"),
    [("AB12", "has 4 characters"), ("A" * 21, "has 21"), ("AB-12345", "'-'")],
)
def test_passport_errors(text, words):
    r = check(text, "passport")
    assert not r.valid
    assert words in r.reason


def test_ambiguous_number_valid_as_permanent_resident_id_and_uscc():
    # 9 11 276 19800517 014 + check 9 (hand-worked); python-stdnum also calls it a valid USCC
    assert uscc.is_valid("911276198005170149")
    r = check("911276198005170149")
    assert (r.kind, r.valid) == ("permanent_resident_id", True)
    assert set(r.also_valid_as) == {"foreigner_ssn", "uscc"}


def test_uscc_that_is_not_a_permanent_resident_id_is_a_uscc():
    r = check("91110000600037341L")
    assert r.kind == "uscc"
    assert r.also_valid_as == ()


def test_ambiguous_resident_id_and_uscc_prefers_resident_id():
    assert uscc.is_valid("11010519491231037X")
    r = check("11010519491231037X")
    assert (r.kind, r.valid) == ("resident_id", True)
    assert r.also_valid_as == ("uscc",)


def test_mistyped_resident_id_is_not_passed_as_a_passport():
    r = check("110105194912310021")
    assert (r.kind, r.valid) == ("resident_id", False)
    assert "should be X" in r.reason


def test_invalid_detection_picks_the_kind_that_got_furthest():
    # As a permanent resident ID its birth date 00600037 is impossible; as a USCC only the check
    # character is wrong, so the answer speaks of the USCC and lists the other failure.
    r = check("911100006000373410")
    assert (r.kind, r.valid) == ("uscc", False)
    assert "should be L" in r.reason
    assert "permanent_resident_id" in r.details["also_checked"]


def test_unrecognisable_text():
    r = check("a!")
    assert (r.kind, r.valid) == ("unknown", False)
    assert "not recognised" in r.reason


def test_unknown_kind_is_an_error_listing_the_kinds():
    with pytest.raises(RuleError) as exc:
        check("11010519491231002X", "tax_id")
    assert exc.value.code == "unknown_id_kind"
    assert exc.value.field == "kind"
    assert "resident_id" in exc.value.message


# --- countries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alpha3", "numeric"),
    [
        ("DEU", "276"), ("JPN", "392"), ("KOR", "410"), ("USA", "840"), ("GBR", "826"),
        ("FRA", "250"), ("CAN", "124"), ("DNK", "208"), ("FIN", "246"), ("CHE", "756"),
        ("NLD", "528"), ("ESP", "724"), ("LUX", "442"), ("SRB", "688"), ("KGZ", "417"),
        ("AFG", "004"), ("RUS", "643"), ("IND", "356"), ("BRA", "076"),
    ],
)  # fmt: skip
def test_country_numeric_codes(alpha3, numeric):
    assert country(alpha3).numeric == numeric
    assert country_by_numeric(numeric).alpha3 == alpha3


def test_common_nationalities_are_all_present_with_both_names():
    common = [
        "USA",
        "GBR",
        "CAN",
        "AUS",
        "NZL",
        "IRL",
        "FRA",
        "DEU",
        "ITA",
        "ESP",
        "PRT",
        "NLD",
        "BEL",
        "LUX",
        "CHE",
        "AUT",
        "SWE",
        "NOR",
        "DNK",
        "FIN",
        "ISL",
        "POL",
        "CZE",
        "HUN",
        "GRC",
        "ROU",
        "UKR",
        "RUS",
        "BLR",
        "KAZ",
        "KGZ",
        "UZB",
        "TUR",
        "ISR",
        "EGY",
        "ZAF",
        "NGA",
        "KEN",
        "ETH",
        "JPN",
        "KOR",
        "PRK",
        "MNG",
        "VNM",
        "LAO",
        "KHM",
        "THA",
        "MYS",
        "SGP",
        "IDN",
        "PHL",
        "MMR",
        "IND",
        "PAK",
        "BGD",
        "LKA",
        "NPL",
        "IRN",
        "SAU",
        "ARE",
        "BRA",
        "ARG",
        "CHL",
        "MEX",
        "COL",
        "PER",
        "SRB",
    ]
    for code in common:
        c = country(code)
        assert c.name and c.name_zh, code
    assert country("KOR").name_zh == "韩国"
    assert len(countries()) >= 249


def test_country_lookup_ignores_case_and_rejects_unknown_codes():
    assert country(" deu ").name == "Germany"
    with pytest.raises(RuleError) as exc:
        country("GER")
    assert exc.value.code == "unknown_country"
    assert "DEU" in exc.value.message


# --- SSN assignment --------------------------------------------------------------------------

SCHEME = ConventionSsnScheme()


def assign(store, **kw):
    args = {"province": "11", "nationality": "DEU", "birth": date(1980, 5, 17), "sex": "male"}
    args.update(kw)
    return SCHEME.assign(store=store, **args)


def test_assignment_golden_numbers():
    store = InMemorySequenceStore()
    assert assign(store) == "911276198005170018"
    assert assign(store, sex="female") == "911276198005170026"
    assert assign(store) == "911276198005170034"


def test_assigned_number_validates_as_ssn():
    r = SCHEME.validate(assign(InMemorySequenceStore()))
    assert (r.kind, r.valid) == ("foreigner_ssn", True)
    assert "CONVENTION" in r.reason


def test_ssn_sequence_000_is_never_valid():
    body = "91127619800517000"
    r = check(body + mod11_2_check(body), "foreigner_ssn")
    assert not r.valid
    assert "000" in r.reason


@pytest.mark.parametrize(
    ("kw", "code", "field"),
    [
        ({"province": "99"}, "invalid_province", "province"),
        ({"province": "81"}, "invalid_province", "province"),  # Hong Kong issues no such numbers
        ({"province": "110000"}, "invalid_province", "province"),
        ({"nationality": "XXX"}, "unknown_country", "nationality"),
        ({"nationality": "CHN"}, "not_a_foreigner", "nationality"),
        ({"sex": "m"}, "invalid_sex", "sex"),
        ({"birth": date(2999, 1, 1)}, "invalid_birth", "birth"),
    ],
)
def test_assignment_refuses_bad_input(kw, code, field):
    with pytest.raises(RuleError) as exc:
        assign(InMemorySequenceStore(), **kw)
    assert (exc.value.code, exc.value.field) == (code, field)


def test_sequences_run_out():
    store = InMemorySequenceStore()
    males = [store.next_sequence("k", 1) for _ in range(500)]
    females = [store.next_sequence("k", 0) for _ in range(499)]
    assert males == list(range(1, 1000, 2))
    assert females == list(range(2, 999, 2))
    for parity in (0, 1):
        with pytest.raises(RuleError) as exc:
            store.next_sequence("k", parity)
        assert exc.value.code == "sequence_exhausted"
    assert store.next_sequence("other", 1) == 1


def test_store_is_thread_safe():
    store = InMemorySequenceStore()
    got: list[str] = []
    lock = threading.Lock()

    def work():
        mine = [assign(store) for _ in range(60)]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == len(set(got)) == 480


_SHARED_STORE = InMemorySequenceStore()
_SEEN: set[str] = set()


@settings(max_examples=300)
@given(
    province=st.sampled_from(sorted(PROVINCES)),
    nationality=st.sampled_from(["DEU", "USA", "JPN", "KOR", "AFG", "GBR", "FRA", "BRA"]),
    birth=st.dates(date(1930, 1, 1), date(2008, 12, 31)),
    sex=st.sampled_from(["male", "female"]),
)
def test_assigned_numbers_are_unique_valid_and_encode_the_inputs(province, nationality, birth, sex):
    number = SCHEME.assign(
        province=province, nationality=nationality, birth=birth, sex=sex, store=_SHARED_STORE
    )
    assert number not in _SEEN
    _SEEN.add(number)
    r = SCHEME.validate(number)
    assert r.valid, r.reason
    assert r.details["province_code"] == province
    assert r.details["nationality"] == nationality
    assert r.details["birth"] == birth.isoformat()
    assert r.details["sex"] == sex
    assert check_id(number).kind == "permanent_resident_id"
