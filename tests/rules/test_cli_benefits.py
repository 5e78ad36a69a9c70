"""CLI: retirement, late-fee, fines, account and pension; bad input is one line on stderr, exit 2."""

import json

import pytest

from expatsi.cli import main


def run(capsys, *argv):
    code = main(["rules", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def assert_one_line_error(code, out, err, *words):
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("expatsi")
    assert "Traceback" not in err
    for word in words:
        assert word in err


def test_retirement(capsys):
    # Women (50) born 1975-03: O = 2025-03, m = 2, delay = 2 // 2 + 1 = 2 → 50y2m in 2025-05.
    data = run_json(
        capsys, "retirement", "--birth", "1975-03", "--sex", "female", "--original-age", "50"
    )
    assert (data["age_years"], data["age_months"], data["retirement_month"]) == (50, 2, "2025-05")
    assert data["min_contribution_months"] == 180
    assert data["delay_months"] == 2
    # The age rule is CONFIRMED, but the output also gives the flexible-retirement notice periods,
    # which policy-facts.md 5 has only as SECONDARY: the result is as strong as its weakest part.
    assert data["status"] == "SECONDARY"
    assert isinstance(data["explanation"], list) and data["explanation"]
    assert data["flexible"]["earliest"] == "2025-03"  # back to the original age 50
    assert (
        data["flexible"]["early_notice_months"],
        data["flexible"]["late_notice_months"],
        data["flexible"]["notice_status"],
    ) == (3, 1, "SECONDARY")


def test_retirement_men_default_to_60(capsys):
    data = run_json(capsys, "retirement", "--birth", "1976-09", "--sex", "male")
    assert (data["age_years"], data["age_months"], data["retirement_month"]) == (63, 0, "2039-09")
    assert data["min_contribution_months"] == 240


def test_retirement_plain_text(capsys):
    code, out, _ = run(capsys, "retirement", "--birth", "1965-05", "--sex", "male")
    assert code == 0
    assert "retirement month: 2025-07" in out  # O = 2025-05 + 2 months


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--birth", "1975-13", "--sex", "female", "--original-age", "50"], "birth"),
        (["--birth", "1975-03", "--sex", "f", "--original-age", "50"], "sex"),
        (["--birth", "1975-03", "--sex", "male", "--original-age", "55"], "original_age"),
        (["--birth", "1975-03", "--sex", "female"], "original_age"),
        (["--birth", "1975-03", "--sex", "female", "--original-age", "fifty"], "original_age"),
    ],
)
def test_retirement_bad_input(capsys, argv, field):
    code, out, err = run(capsys, "retirement", *argv)
    assert_one_line_error(code, out, err, field)


def test_missing_required_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["rules", "retirement", "--sex", "male"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--birth" in err


def test_late_fee(capsys):
    # 16 + 28 + 1 = 45 days; 10,000.00 × 0.05% × 45 = 225.00.
    data = run_json(
        capsys, "late-fee", "--amount", "10000", "--due", "2025-01-15", "--paid", "2025-03-01"
    )
    assert (data["days"], data["late_fee"]) == (45, "225.00")
    assert "45 days" in data["explanation"]
    assert data["rate_per_day"] == "0.05%"


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--amount", "10000", "--due", "2025-02-30", "--paid", "2025-03-01"], "due"),
        (["--amount", "10000", "--due", "2025-01-15", "--paid", "yesterday"], "paid"),
        (["--amount", "-5", "--due", "2025-01-15", "--paid", "2025-03-01"], "amount"),
        (["--amount", "1.234", "--due", "2025-01-15", "--paid", "2025-03-01"], "amount"),
    ],
)
def test_late_fee_bad_input(capsys, argv, field):
    code, out, err = run(capsys, "late-fee", *argv)
    assert_one_line_error(code, out, err, field)


def test_fines(capsys):
    data = run_json(capsys, "fines", "--kind", "illegal_employment", "--persons", "12")
    # 12 × 10,000 = 120,000, capped at 100,000: a fixed fine.
    assert (data["min"], data["max"]) == ("100000.00", "100000.00")
    assert data["article"] == "Exit and Entry Administration Law Art. 80"
    data = run_json(capsys, "fines", "--kind", "arrears_not_paid", "--amount", "2500.50")
    assert (data["min"], data["max"]) == ("2500.50", "7501.50")


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--kind", "speeding"], "kind"),
        (["--kind", "illegal_employment", "--persons", "many"], "persons"),
        (["--kind", "illegal_employment"], "persons"),
        (["--kind", "failure_to_register"], "amount"),
    ],
)
def test_fines_bad_input(capsys, argv, field):
    code, out, err = run(capsys, "fines", *argv)
    assert_one_line_error(code, out, err, field)


def write_ledger(tmp_path, text):
    path = tmp_path / "ledger.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_account(capsys, tmp_path):
    rows = "".join(f"2024-{m:02d},1000\n" for m in range(1, 13))
    ledger = write_ledger(tmp_path, "month,amount\n" + rows)
    data = run_json(capsys, "account", "--ledger", ledger, "--on", "2025-12-31")
    # 2024: 1,000.00 × 78 × 2.62% / 12 = 170.30 → 12,170.30.
    # 2025: 12,170.30 × 1.50% = 182.5545 → 182.55 → 12,352.85.
    y24, y25 = data["years"]
    assert (y24["year"], y24["opening"], y24["credits"], y24["interest"], y24["closing"]) == (
        2024,
        "0.00",
        "12000.00",
        "170.30",
        "12170.30",
    )
    assert (y25["opening"], y25["credits"], y25["interest"], y25["closing"]) == (
        "12170.30",
        "0.00",
        "182.55",
        "12352.85",
    )
    assert (y24["rate"], y25["rate"]) == ("2.62%", "1.5%")
    assert (y24["provisional"], y25["provisional"]) == (False, False)
    assert y25["status"] == "UNCONFIRMED"
    assert data["balance"] == "12352.85"
    assert data["contribution_months"] == 12


def test_account_without_header_and_with_a_correction(capsys, tmp_path):
    # 1,000.00 − 200.00 in January 2024 = 800.00 × 2.62% = 20.96 → 820.96.
    ledger = write_ledger(tmp_path, "# corrections allowed\n2024-01,1000\n\n2024-01,-200.00\n")
    data = run_json(capsys, "account", "--ledger", ledger, "--on", "2024-12-31")
    assert data["balance"] == "820.96"


def test_account_plain_text(capsys, tmp_path):
    ledger = write_ledger(tmp_path, "month,amount\n2024-12,1200\n")
    code, out, _ = run(capsys, "account", "--ledger", ledger, "--on", "2026-12-31")
    assert code == 0
    assert "provisional" in out  # 2026 uses 2025's rate


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("month,amount\n2024-01,1000\n2024-13,1000\n", ["row 3", "column month"]),
        ("month,amount\n2024-01,1000\n2024-02,ten\n", ["row 3", "column amount"]),
        ("month,amount\n2024-01\n", ["row 2", "month,amount"]),
        ("amount,month\n1000,2010-06\n", ["2011"]),
    ],
)
def test_account_malformed_ledger(capsys, tmp_path, text, words):
    ledger = write_ledger(tmp_path, text)
    code, out, err = run(capsys, "account", "--ledger", ledger, "--on", "2025-12-31")
    assert_one_line_error(code, out, err, *words)


def test_account_missing_file(capsys, tmp_path):
    code, out, err = run(
        capsys, "account", "--ledger", str(tmp_path / "nope.csv"), "--on", "2025-12-31"
    )
    assert_one_line_error(code, out, err, "ledger")


PENSION = [
    "pension",
    "--region",
    "110000",
    "--months",
    "180",
    "--index",
    "1.0",
    "--balance",
    "100000",
]


def test_pension_with_age(capsys):
    # Basic (12,049 + 12,049) / 2 × 15 × 1% = 1,807.35; divisor 60y3m = 137.3;
    # 100,000.00 / 137.3 = 728.33; total 2,535.68.
    data = run_json(capsys, *PENSION, "--year", "2025", "--age", "60y3m")
    assert (data["basic_pension"], data["account_pension"], data["total"]) == (
        "1807.35",
        "728.33",
        "2535.68",
    )
    assert (data["divisor"], data["age"]) == ("137.3", "60y3m")
    assert data["status"] == "CONVENTION"
    assert len(data["steps"]) == 7


def test_pension_from_birth(capsys):
    # Man born 1965-04: O = 2025-04, m = 3 → 60y1m, retiring 2025-05; divisor 139 − 7/12 =
    # 138.4166… → 138.4; 100,000.00 / 138.4 = 722.543… → 722.54.
    data = run_json(capsys, *PENSION, "--birth", "1965-04", "--sex", "male")
    assert data["retirement_month"] == "2025-05"
    assert data["year"] == 2025
    assert (data["divisor"], data["account_pension"]) == ("138.4", "722.54")


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--year", "2025", "--age", "60y13m"], "age"),
        (["--year", "2025"], "age"),
        (["--age", "60"], "year"),
        (["--year", "2025", "--age", "60", "--birth", "1965-04", "--sex", "male"], "age"),
        (["--year", "2026", "--age", "60"], "year"),
        (["--year", "2025", "--age", "71"], "age"),
        (["--year", "2025", "--age", "60", "--index", "1,2"], "index"),
    ],
)
def test_pension_bad_input(capsys, argv, field):
    code, out, err = run(capsys, *PENSION, *argv)
    assert_one_line_error(code, out, err, field)


def test_pension_below_the_minimum(capsys):
    argv = [
        "pension",
        "--region",
        "110000",
        "--year",
        "2025",
        "--months",
        "179",
        "--index",
        "1",
        "--balance",
        "0",
        "--age",
        "60",
    ]
    code, out, err = run(capsys, *argv)
    assert_one_line_error(code, out, err, "months", "180")
