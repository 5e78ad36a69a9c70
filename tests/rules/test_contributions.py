"""Golden person-months worked by hand from the policy tables (policy-facts.md section 3).

Each expected amount is base × rate, rounded half up to the fen; Beijing adds 3.00 to the
employee's medical after rounding. The arithmetic is written next to each figure.
"""

import pytest

from expatsi.rules.contributions import person_month
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError


def fen(yuan: str) -> int:
    whole, _, frac = yuan.partition(".")
    return int(whole) * 100 + int(frac.ljust(2, "0"))


def amounts(result):
    return {line.insurance: (line.base, line.employer, line.employee) for line in result.lines}


# (region, month, wage, work-injury rate ppm, expected {insurance: (base, employer, employee)})
GOLDEN = [
    # Beijing 2024-07…2025-06: limits 6,821 / 35,283; 16/8, 9.8/2+3, 0.5/0.5
    (
        "110000",
        "2024-07",
        "5000",
        4_000,
        {
            "pension": ("6821", "1091.36", "545.68"),  # 6821×16%, ×8%
            "medical": ("6821", "668.46", "139.42"),  # 668.458 → 668.46; 136.42 + 3.00
            "unemployment": ("6821", "34.11", "34.11"),  # 34.105: half-fen tie → up
            "work_injury": ("6821", "27.28", "0"),  # 6821×0.4% = 27.284
            "maternity": ("6821", "0", "0"),  # merged into medical
        },
    ),
    (
        "110000",
        "2025-06",
        "20000",
        2_000,
        {
            "pension": ("20000", "3200", "1600"),
            "medical": ("20000", "1960", "403"),  # 400 + 3
            "unemployment": ("20000", "100", "100"),
            "work_injury": ("20000", "40", "0"),
            "maternity": ("20000", "0", "0"),
        },
    ),
    (
        "110000",
        "2024-12",
        "35283",
        2_000,
        {  # exactly at the upper limit
            "pension": ("35283", "5645.28", "2822.64"),
            "medical": ("35283", "3457.73", "708.66"),  # 3457.734; 705.66 + 3
            "unemployment": ("35283", "176.42", "176.42"),  # 176.415 tie → up
            "work_injury": ("35283", "70.57", "0"),  # 70.566
            "maternity": ("35283", "0", "0"),
        },
    ),
    (
        "110000",
        "2025-01",
        "80000",
        2_000,
        {  # above: capped at 35,283
            "pension": ("35283", "5645.28", "2822.64"),
            "medical": ("35283", "3457.73", "708.66"),
            "unemployment": ("35283", "176.42", "176.42"),
            "work_injury": ("35283", "70.57", "0"),
            "maternity": ("35283", "0", "0"),
        },
    ),
    # Beijing 2025-07…2026-06: limits 7,162 / 35,811
    (
        "110000",
        "2025-07",
        "7000",
        2_000,
        {
            "pension": ("7162", "1145.92", "572.96"),
            "medical": ("7162", "701.88", "146.24"),  # 701.876; 143.24 + 3
            "unemployment": ("7162", "35.81", "35.81"),
            "work_injury": ("7162", "14.32", "0"),  # 14.324
            "maternity": ("7162", "0", "0"),
        },
    ),
    (
        "110000",
        "2026-06",
        "7162",
        2_000,
        {  # exactly at the lower limit
            "pension": ("7162", "1145.92", "572.96"),
            "medical": ("7162", "701.88", "146.24"),
            "unemployment": ("7162", "35.81", "35.81"),
            "work_injury": ("7162", "14.32", "0"),
            "maternity": ("7162", "0", "0"),
        },
    ),
    (
        "110000",
        "2025-08",
        "40000",
        2_000,
        {
            "pension": ("35811", "5729.76", "2864.88"),
            "medical": ("35811", "3509.48", "719.22"),  # 3509.478; 716.22 + 3
            "unemployment": ("35811", "179.06", "179.06"),  # 179.055 tie → up
            "work_injury": ("35811", "71.62", "0"),  # 71.622
            "maternity": ("35811", "0", "0"),
        },
    ),
    # Shanghai 2023-07…2024-06: 7,310 / 36,549; 16/8, 9/2, 0.5/0.5; work injury 80% of national
    (
        "310000",
        "2023-07",
        "6000",
        1_600,
        {
            "pension": ("7310", "1169.60", "584.80"),
            "medical": ("7310", "657.90", "146.20"),
            "unemployment": ("7310", "36.55", "36.55"),
            "work_injury": ("7310", "11.70", "0"),  # 7310×0.16% = 11.696
            "maternity": ("7310", "0", "0"),
        },
    ),
    (
        "310000",
        "2024-06",
        "99999",
        1_600,
        {
            "pension": ("36549", "5847.84", "2923.92"),
            "medical": ("36549", "3289.41", "730.98"),
            "unemployment": ("36549", "182.75", "182.75"),  # 182.745 tie → up
            "work_injury": ("36549", "58.48", "0"),  # 58.4784
            "maternity": ("36549", "0", "0"),
        },
    ),
    # Shanghai 2024-07…2025-06: 7,384 / 36,921
    (
        "310000",
        "2024-07",
        "7000",
        1_600,
        {
            "pension": ("7384", "1181.44", "590.72"),
            "medical": ("7384", "664.56", "147.68"),
            "unemployment": ("7384", "36.92", "36.92"),
            "work_injury": ("7384", "11.81", "0"),  # 11.8144
            "maternity": ("7384", "0", "0"),
        },
    ),
    (
        "310000",
        "2025-03",
        "50000",
        1_600,
        {
            "pension": ("36921", "5907.36", "2953.68"),
            "medical": ("36921", "3322.89", "738.42"),
            "unemployment": ("36921", "184.61", "184.61"),  # 184.605 tie → up
            "work_injury": ("36921", "59.07", "0"),  # 59.0736
            "maternity": ("36921", "0", "0"),
        },
    ),
    (
        "310000",
        "2024-10",
        "15000",
        3_200,
        {
            "pension": ("15000", "2400", "1200"),
            "medical": ("15000", "1350", "300"),
            "unemployment": ("15000", "75", "75"),
            "work_injury": ("15000", "48", "0"),  # 15000×0.32%
            "maternity": ("15000", "0", "0"),
        },
    ),
    # Shanghai 2025-07…2026-06: 7,460 / 37,302
    (
        "310000",
        "2025-07",
        "1",
        1_600,
        {
            "pension": ("7460", "1193.60", "596.80"),
            "medical": ("7460", "671.40", "149.20"),
            "unemployment": ("7460", "37.30", "37.30"),
            "work_injury": ("7460", "11.94", "0"),  # 11.936
            "maternity": ("7460", "0", "0"),
        },
    ),
    (
        "310000",
        "2026-06",
        "37303",
        1_600,
        {
            "pension": ("37302", "5968.32", "2984.16"),
            "medical": ("37302", "3357.18", "746.04"),
            "unemployment": ("37302", "186.51", "186.51"),
            "work_injury": ("37302", "59.68", "0"),  # 59.6832
            "maternity": ("37302", "0", "0"),
        },
    ),
]


@pytest.mark.parametrize(("region", "month", "wage", "wi", "expected"), GOLDEN)
def test_golden_person_months(region, month, wage, wi, expected):
    result = person_month(
        region_code=region, month=Month.parse(month), wage=fen(wage), work_injury_rate=wi
    )
    want = {k: (fen(b), fen(er), fen(ee)) for k, (b, er, ee) in expected.items()}
    assert amounts(result) == want
    assert result.employer_total == sum(v[1] for v in want.values())
    assert result.employee_total == sum(v[2] for v in want.values())


def test_base_reasons_are_explained():
    low = person_month(region_code="110000", month=Month(2025, 8), wage=fen("5000"))
    high = person_month(region_code="110000", month=Month(2025, 8), wage=fen("50000"))
    mid = person_month(region_code="110000", month=Month(2025, 8), wage=fen("20000"))
    assert {line.base_reason for line in low.lines} == {"raised_to_lower_limit"}
    assert {line.base_reason for line in high.lines} == {"capped_at_upper_limit"}
    assert {line.base_reason for line in mid.lines} == {"within_limits"}
    assert "below the lower limit" in low.lines[0].explanation
    assert "above the upper limit" in high.lines[0].explanation


def test_merged_maternity_is_carried_by_medical_and_said_so():
    r = person_month(region_code="110000", month=Month(2024, 8), wage=fen("20000"))
    lines = {line.insurance: line for line in r.lines}
    assert lines["maternity"].merged_into == "medical"
    assert (lines["maternity"].employer, lines["maternity"].employee) == (0, 0)
    assert "included in medical" in lines["maternity"].explanation
    assert "includes maternity" in lines["medical"].explanation


def test_status_shows_where_figures_are_not_confirmed():
    confirmed = person_month(region_code="110000", month=Month(2024, 8), wage=fen("20000"))
    assumed = person_month(region_code="110000", month=Month(2025, 8), wage=fen("20000"))
    assert confirmed.status.value == "CONFIRMED"
    assert assumed.status.value == "UNCONFIRMED"  # 2025 Beijing rates assumed unchanged
    assert "UNCONFIRMED" in {line.as_dict()["status"] for line in assumed.lines}


def test_default_work_injury_rate_is_declared_as_a_convention():
    r = person_month(region_code="310000", month=Month(2024, 8), wage=fen("10000"))
    assert r.work_injury_rate == 1_600  # class I 0.2% × Shanghai's 80%
    assert any("class I" in c for c in r.conventions)


@pytest.mark.parametrize(
    ("nationality", "month", "exempt"),
    [
        ("DEU", "2025-08", {"pension", "unemployment"}),
        ("KOR", "2025-08", {"pension", "unemployment"}),
        ("JPN", "2025-08", {"pension"}),
        ("DNK", "2025-08", {"pension"}),
        ("USA", "2025-08", set()),
        ("KGZ", "2025-10", set()),  # in force 14 Oct 2025: October is not yet exempt
        ("KGZ", "2025-11", {"pension"}),
        ("FRA", "2025-08", set()),  # in-force date unknown
    ],
)
def test_agreement_exemptions_with_a_certificate(nationality, month, exempt):
    r = person_month(
        region_code="110000",
        month=Month.parse(month),
        wage=fen("20000"),
        nationality=nationality,
        coverage_certificate=True,
    )
    got = {line.insurance for line in r.lines if line.exempt}
    assert got == exempt
    for line in r.lines:
        if line.exempt:
            assert (line.employer, line.employee) == (0, 0)
    # Medical, work injury and maternity are never exempted.
    assert not got & {"medical", "work_injury", "maternity"}


def test_germany_exemption_golden_totals():
    # Beijing 2025-08, wage 20,000, work injury 0.2%, German with certificate:
    # pension and unemployment exempt; medical 1,960 / 400+3; work injury 40.
    r = person_month(
        region_code="110000",
        month=Month(2025, 8),
        wage=fen("20000"),
        work_injury_rate=2_000,
        nationality="DEU",
        coverage_certificate=True,
    )
    assert r.employer_total == fen("2000")
    assert r.employee_total == fen("403")


def test_no_certificate_no_exemption():
    r = person_month(
        region_code="110000",
        month=Month(2025, 8),
        wage=fen("20000"),
        nationality="DEU",
        coverage_certificate=False,
    )
    assert not any(line.exempt for line in r.lines)
    assert "certificate" in r.exemption.reason


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"region_code": "999999"}, "unknown_region", "region"),
        ({"region_code": "beijing"}, "invalid_region", "region"),
        ({"month": Month(2022, 1)}, "no_policy_for_month", "month"),
        ({"wage": -1}, "negative_wage", "wage"),
        ({"work_injury_rate": 100_000}, "invalid_work_injury_rate", "work_injury_rate"),
        ({"work_injury_rate": 1_000}, "invalid_work_injury_rate", "work_injury_rate"),
    ],
)
def test_bad_input_is_a_specific_error(kwargs, code, field):
    args = {"region_code": "110000", "month": Month(2025, 8), "wage": fen("20000")} | kwargs
    with pytest.raises(RuleError) as exc:
        person_month(**args)
    assert exc.value.code == code
    assert exc.value.field == field
