"""Policy data is validated when loaded: a bad file names the file and the field."""

import ast
import copy
import tomllib
from pathlib import Path

import pytest

from expatsi.rules.errors import PolicyDataError
from expatsi.rules.policy import POLICY_DIR, Status, Table, policy_files, read_table
from expatsi.rules.regions import parse_region, region, regions

BEIJING = tomllib.loads((POLICY_DIR / "regions/110000-beijing.toml").read_text(encoding="utf-8"))


def load(data):
    return parse_region(Table(data, "regions/test.toml"))


def test_every_shipped_file_has_meta_with_a_known_status_and_a_source():
    assert policy_files(), "no policy files shipped"
    for name in policy_files():
        meta = read_table(name).table("meta")
        assert meta.str("title")
        assert meta.str("source")
        assert Status(meta.str("status"))


def test_regions_on_file():
    assert {"110000", "310000"} <= set(regions())
    assert [str(p.span) for p in region("110000").periods] == [
        "2024-07…2025-06",
        "2025-07…2026-06",
        "2026-07…2027-06",
    ]
    assert [str(p.span) for p in region("310000").periods] == [
        "2023-07…2024-06",
        "2024-07…2025-06",
        "2025-07…2026-06",
        "2026-07…2027-06",
    ]


def test_a_gap_between_periods_is_refused():
    data = copy.deepcopy(BEIJING)
    data["periods"][1]["effective_from"] = "2025-08"
    with pytest.raises(PolicyDataError) as exc:
        load(data)
    assert exc.value.file == "regions/test.toml"
    assert "gap" in exc.value.message


def test_overlapping_periods_are_refused():
    data = copy.deepcopy(BEIJING)
    data["periods"][1]["effective_from"] = "2025-06"
    with pytest.raises(PolicyDataError, match="overlaps"):
        load(data)


def test_a_missing_insurance_is_refused():
    data = copy.deepcopy(BEIJING)
    del data["periods"][0]["insurances"]["unemployment"]
    with pytest.raises(PolicyDataError) as exc:
        load(data)
    assert exc.value.field == "periods[0].insurances.unemployment"


@pytest.mark.parametrize(
    ("value", "message"),
    [("160%", "between 0%"), ("sixteen", "not a rate"), (0.16, "string")],
)
def test_a_bad_rate_names_the_field(value, message):
    data = copy.deepcopy(BEIJING)
    data["periods"][0]["insurances"]["pension"]["employer_rate"] = value
    with pytest.raises(PolicyDataError, match=message) as exc:
        load(data)
    assert exc.value.field == "periods[0].insurances.pension.employer_rate"


def test_limits_must_be_ordered():
    data = copy.deepcopy(BEIJING)
    data["periods"][0]["base_lower"] = "40000"
    with pytest.raises(PolicyDataError, match="lower ≤ upper"):
        load(data)


def test_an_unknown_status_is_refused():
    data = copy.deepcopy(BEIJING)
    data["periods"][0]["status"] = "PROBABLY"
    with pytest.raises(PolicyDataError, match="CONFIRMED"):
        load(data)


def test_a_bad_region_code_is_refused():
    data = copy.deepcopy(BEIJING)
    data["region"]["code"] = "11"
    with pytest.raises(PolicyDataError) as exc:
        load(data)
    assert exc.value.field == "region.code"


def test_a_broken_toml_file_names_the_file(tmp_path):
    (tmp_path / "x.toml").write_text("[meta\ntitle = 1", encoding="utf-8")
    with pytest.raises(PolicyDataError, match=r"x\.toml"):
        read_table("x.toml", root=tmp_path)


def test_the_rules_package_never_imports_django():
    root = Path(__import__("expatsi.rules", fromlist=["x"]).__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "django"]
    assert offenders == []


def test_every_convention_says_where_it_is_applied_and_that_place_exists():
    t = read_table("national/conventions.toml")
    keys = set()
    for row in t.tables("conventions"):
        key = row.str("key")
        assert key not in keys
        keys.add(key)
        assert row.str("rule") and row.str("why")
        for place in row.raw("applied_in"):
            file = place.split(":", 1)[0]
            assert file in policy_files(), f"{key}: {file} is not a policy file"
    # The conventions policy-facts.md lists, at least:
    assert {
        "money_rounding",
        "contribution_year",
        "late_publication",
        "payment_due_date",
        "adjustment_due_date",
        "late_fee_days",
        "account_crediting",
        "months_divisor_interpolation",
        "foreigner_ssn",
        "registration_clock",
        "proof_of_life",
    } <= keys
