"""Statuses of the policy data, worked by hand from shared/policy-facts.md (never from the code).

The ranking (weakest last): CONFIRMED, SECONDARY, CONVENTION, UNCONFIRMED. A figure nobody has
seen an official text for (UNCONFIRMED) is less certain than a choice we made and documented
(CONVENTION), so a result that uses both is UNCONFIRMED.
"""

from datetime import date

import pytest

from expatsi.rules.accounts import parse_crediting_rates, statement
from expatsi.rules.agreements import agreements
from expatsi.rules.dates import Month
from expatsi.rules.errors import PolicyDataError
from expatsi.rules.penalties import penalty_rules
from expatsi.rules.pension import calculation_base, divisor_table, pension_bases
from expatsi.rules.policy import Status, Table, policy_files, read_table
from expatsi.rules.regions import region
from expatsi.rules.retirement import flexible_window, statutory_retirement

C, S, U, V = Status.CONFIRMED, Status.SECONDARY, Status.UNCONFIRMED, Status.CONVENTION


def test_unconfirmed_is_weaker_than_convention():
    assert Status.weakest([V, U]) is U
    assert Status.weakest([U, V]) is U
    assert Status.weakest([S, V]) is V
    assert Status.weakest([C, S]) is S
    assert [s.value for s in sorted(Status, key=lambda s: s.weakness)] == [
        "CONFIRMED",
        "SECONDARY",
        "CONVENTION",
        "UNCONFIRMED",
    ]


def test_a_statement_on_the_unconfirmed_2025_rate_says_unconfirmed():
    # 2025 is credited at 1.50%, UNCONFIRMED in policy-facts.md 6.1 (one local notice); the
    # monthly-accumulation method is a CONVENTION. The weakest of the two is UNCONFIRMED.
    s = statement([(Month(2025, 1), 100_000)], date(2025, 12, 31))
    (year,) = s.years
    assert (year.rate_ppm, year.status) == (15_000, U)
    assert s.status is U


# Period by period, insurance by insurance, from policy-facts.md 3.2 (Beijing) and 3.3 (Shanghai):
# (limits, average wage, pension, medical, unemployment, work injury, maternity).
GOLDEN_PERIODS = {
    # 2024: limits 京人社发〔2024〕12号 and all rates Forvis Mazars 2024: CONFIRMED. Average wage not
    # stated (none on file).
    ("110000", "2024-07"): (C, None, C, C, C, C, C),
    # 2025: limits SECONDARY (dataset citing 京人社发〔2025〕11号); average wage derived 35,811 / 3:
    # UNCONFIRMED; "2025 rates: no source seen. Treat them as unchanged from 2024 only with an
    # UNCONFIRMED flag" — every rate, work injury and the medical/maternity merger included.
    ("110000", "2025-07"): (S, U, U, U, U, U, U),
    # 2026: provisional, carried forward: nothing seen.
    ("110000", "2026-07"): (U, U, U, U, U, U, U),
    # Shanghai 2023: limits and average wage SECONDARY ("others SECONDARY"); no 2023 rate in the
    # facts: the 2024 rates are assumed, UNCONFIRMED.
    ("310000", "2023-07"): (S, S, U, U, U, U, U),
    # Shanghai 2024: limits "2024 CONFIRMED (Forvis Mazars agrees)"; average wage 12,307 SECONDARY
    # (dataset only); pension 16/8 CONFIRMED; medical incl. maternity 9/2 SECONDARY ("please
    # check"); unemployment CONFIRMED; work injury 0.16%–1.52% CONFIRMED.
    ("310000", "2024-07"): (C, S, C, S, C, C, S),
    # Shanghai 2025: limits and average wage 12,434 SECONDARY; rates "assumed unchanged".
    ("310000", "2025-07"): (S, S, U, U, U, U, U),
    ("310000", "2026-07"): (U, U, U, U, U, U, U),
}


@pytest.mark.parametrize(
    ("key", "expected"), GOLDEN_PERIODS.items(), ids=[f"{c}-{f}" for c, f in GOLDEN_PERIODS]
)
def test_period_statuses_match_the_facts(key, expected):
    code, first = key
    period = region(code).period_for(Month.parse(first))
    got = (
        period.provenance.status,
        period.average_wage_status,
        *(
            period.rules[name].provenance.status
            for name in ("pension", "medical", "unemployment", "work_injury", "maternity")
        ),
    )
    assert got == expected


def test_period_summary_is_the_weakest_figure():
    assert region("110000").period_for(Month(2024, 9)).status is C
    assert region("110000").period_for(Month(2025, 9)).status is U
    assert region("310000").period_for(Month(2024, 9)).status is S
    assert region("310000").period_for(Month(2026, 10)).status is U


# The [meta] status of every file: the weakest status anywhere in it, worked from its rows.
GOLDEN_HEADERS = {
    "regions/110000-beijing.toml": U,  # 2025–26 rates, 2026–27 provisional
    "regions/310000-shanghai.toml": U,  # 2023–24 rates, 2026–27 provisional
    "national/agreements.toml": U,  # France: in-force date not found
    "national/crediting_rates.toml": U,  # 2025: 1.50%
    "national/deadlines.toml": V,  # proof of life, payment due, certificate alert
    "national/first_entry.toml": S,  # the Work Permit Notice's 90 days
    "national/holidays.toml": U,
    "national/min_contribution.toml": C,
    "national/months_divisor.toml": V,  # fractional ages interpolated
    "national/penalties.toml": V,  # late-fee day count
    "national/retirement.toml": S,  # flexible retirement notice periods
    "national/work_injury.toml": C,
    "national/countries.toml": C,
    "national/conventions.toml": V,
    "pension_bases.toml": U,  # Shanghai 2025: the average wage stands in
}


def test_every_file_header_is_the_weakest_status_of_its_contents():
    assert set(GOLDEN_HEADERS) == set(policy_files())
    for name, expected in GOLDEN_HEADERS.items():
        assert Status(read_table(name).table("meta").str("status")) is expected, name


def test_a_header_stronger_than_a_figure_in_the_file_is_refused(tmp_path):
    (tmp_path / "x.toml").write_text(
        '[meta]\ntitle = "x"\nstatus = "SECONDARY"\nsource = "s"\n\n'
        '[[rows]]\nvalue = 1\nstatus = "CONFIRMED"\n\n'
        '[[rows]]\nvalue = 2\nstatus = "CONVENTION"\n\n'
        '[[rows]]\nvalue = 3\n[rows.inner]\nsource = "t"\nstatus = "UNCONFIRMED"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyDataError) as exc:
        read_table("x.toml", root=tmp_path)
    assert exc.value.file == "x.toml"
    assert exc.value.field == "meta.status"
    assert "rows[2].inner.status" in exc.value.message
    assert "UNCONFIRMED" in exc.value.message


def test_an_average_wage_status_counts_too(tmp_path):
    (tmp_path / "y.toml").write_text(
        '[meta]\ntitle = "y"\nstatus = "CONFIRMED"\nsource = "s"\n\n'
        '[[periods]]\naverage_wage_status = "SECONDARY"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyDataError, match=r"periods\[0\]\.average_wage_status"):
        read_table("y.toml", root=tmp_path)


def test_a_header_as_weak_as_its_weakest_figure_loads(tmp_path):
    (tmp_path / "z.toml").write_text(
        '[meta]\ntitle = "z"\nstatus = "UNCONFIRMED"\nsource = "s"\n\n'
        '[[rows]]\nstatus = "CONVENTION"\n\n[[rows]]\nstatus = "UNCONFIRMED"\n',
        encoding="utf-8",
    )
    assert read_table("z.toml", root=tmp_path).table("meta").str("status") == "UNCONFIRMED"


def test_the_crediting_method_is_a_convention_the_rates_keep_their_own_status():
    t = read_table("national/crediting_rates.toml")
    rates = parse_crediting_rates(Table(t.data, t.file))
    assert rates.method.status is V
    assert {r.year: r.provenance.status for r in rates.rates}[2024] is C
    assert {r.year: r.provenance.status for r in rates.rates}[2025] is U


def test_national_figures_keep_their_own_status_under_a_weaker_header():
    # Agreements (policy-facts.md 7): Germany CONFIRMED, Switzerland's date conflicts (SECONDARY),
    # France's in-force date unknown (UNCONFIRMED).
    by_country = {a.country: a.provenance.status for a in agreements().values()}
    assert (by_country["DEU"], by_country["CHE"], by_country["FRA"]) == (C, S, U)
    # Penalties (2, 9): the fines and the 0.05% a day are CONFIRMED; the day count is ours.
    rules = penalty_rules()
    assert rules.late_fee.status is C
    assert rules.day_count.status is V
    assert {f.provenance.status for f in rules.fines.values()} == {C}
    # Months divisor (6.2): the table CONFIRMED, interpolation a CONVENTION.
    table = divisor_table()
    assert (table.provenance.status, table.fractional.status) == (C, V)
    # Pension calculation base (3.2, 3.4): Beijing 2025 SECONDARY; Shanghai's stand-in UNCONFIRMED;
    # the 1% accrual CONFIRMED (6.3).
    assert calculation_base("110000", 2025).provenance.status is S
    assert calculation_base("310000", 2025).provenance.status is U
    assert pension_bases().formula.status is C


def test_flexible_retirement_notice_periods_are_secondary():
    # Policy-facts.md 5: caps and the original-age floor CONFIRMED; the 3-month (early) and
    # 1-month (late) written notice SECONDARY. The statutory age itself stays CONFIRMED.
    assert statutory_retirement(Month(1975, 3), "female", 50).status is C
    w = flexible_window(Month(1975, 3), "female", 50)
    assert (w.early_notice_months, w.late_notice_months) == (3, 1)
    assert w.notice_provenance.status is S
    assert w.status is S
