import json

import pytest

from expatsi.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_contributions_json_keys_and_values(capsys):
    code, out, err = run(
        capsys,
        "rules",
        "contributions",
        "--region",
        "110000",
        "--month",
        "2025-08",
        "--wage",
        "30000",
        "--work-injury-rate",
        "0.004",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert [line["insurance"] for line in data["lines"]] == [
        "pension",
        "medical",
        "unemployment",
        "work_injury",
        "maternity",
    ]
    for line in data["lines"]:
        assert {"insurance", "base", "employer", "employee", "exempt", "explanation"} <= set(line)
    pension = data["lines"][0]
    # 30,000 × 16% = 4,800.00 ; × 8% = 2,400.00
    assert (pension["base"], pension["employer"], pension["employee"]) == (
        "30000.00",
        "4800.00",
        "2400.00",
    )
    # employer: 4800 + 2940 + 150 + 120 (0.4%) = 8010.00 ; employee: 2400 + 603 + 150 = 3153.00
    assert data["employer_total"] == "8010.00"
    assert data["employee_total"] == "3153.00"
    assert data["policy"]["status"] == "UNCONFIRMED"
    assert data["policy"]["period"] == "2025-07…2026-06"
    assert "maternity" in data["lines"][1]["explanation"]


def test_contributions_with_a_certificate_of_coverage(capsys):
    code, out, _ = run(
        capsys,
        "rules",
        "contributions",
        "--region",
        "310000",
        "--month",
        "2024-09",
        "--wage",
        "20000",
        "--nationality",
        "kor",
        "--coverage-certificate",
        "--json",
    )
    assert code == 0
    lines = {line["insurance"]: line for line in json.loads(out)["lines"]}
    assert lines["pension"]["exempt"] and lines["unemployment"]["exempt"]
    assert not lines["medical"]["exempt"]
    assert lines["pension"]["employer"] == "0.00"


def test_plain_output_is_a_table(capsys):
    code, out, _ = run(
        capsys, "rules", "contributions", "--region", "110000", "--month", "2024-08", "--wage", "1"
    )
    assert code == 0
    assert "pension" in out and "6821.00" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--region", "999999", "--month", "2025-08", "--wage", "1"], "region"),
        (
            ["--region", "110000", "--month", "2030-01", "--wage", "1"],
            "no contribution policy for 2030-01",
        ),
        (["--region", "110000", "--month", "2025-13", "--wage", "1"], "month"),
        (["--region", "110000", "--month", "August", "--wage", "1"], "YYYY-MM"),
        (["--region", "110000", "--month", "2025-08", "--wage", "-100"], "negative"),
        (["--region", "110000", "--month", "2025-08", "--wage", "lots"], "wage"),
        (
            ["--region", "110000", "--month", "2025-08", "--wage", "1", "--work-injury-rate", "9%"],
            "work_injury_rate",
        ),
        (
            ["--region", "110000", "--month", "2025-08", "--wage", "1", "--nationality", "XXX"],
            "nationality",
        ),
        (["--region", "110000", "--month", "2025-08"], "--wage"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    try:
        code = main(["rules", "contributions", *argv])
    except SystemExit as exc:  # argparse's own errors exit directly
        code = exc.code
    assert code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err
    assert "Traceback" not in err


def test_policies_lists_every_table_with_status_and_source(capsys):
    code, out, _ = run(capsys, "rules", "policies", "--json")
    assert code == 0
    tables = {t["file"]: t for t in json.loads(out)["tables"]}
    beijing = tables["regions/110000-beijing.toml"]
    assert [p["status"] for p in beijing["periods"]] == ["CONFIRMED", "UNCONFIRMED", "UNCONFIRMED"]
    assert all(t["source"] and t["status"] for t in tables.values())
