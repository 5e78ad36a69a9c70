"""``expatsi rules check-id``, ``assign-ssn`` and ``deadline`` through the real entry point."""

import json

import pytest

from expatsi.cli import main


def run_json(capsys, *argv):
    code = main(["rules", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def run_error(capsys, *argv):
    code = main(["rules", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_check_id_valid(capsys):
    result = run_json(capsys, "check-id", "11010519491231002X")
    assert result["kind"] == "resident_id"
    assert result["valid"] is True
    assert result["reason"]
    assert result["details"]["birth"] == "1949-12-31"
    assert result["details"]["sex"] == "female"


def test_check_id_invalid_still_answers(capsys):
    result = run_json(capsys, "check-id", "91110000600037341A", "--kind", "uscc")
    assert result["valid"] is False
    assert "should be L" in result["reason"]


def test_check_id_lists_other_valid_kinds(capsys):
    result = run_json(capsys, "check-id", "911276198005170018")
    assert result["kind"] == "permanent_resident_id"
    assert result["also_valid_as"] == ["foreigner_ssn"]
    assert result["details"]["nationality"] == "DEU"


def test_check_id_plain_output(capsys):
    assert main(["rules", "check-id", "DEU123456789012"]) == 0
    out = capsys.readouterr().out
    assert "permanent_resident_id_old" in out
    assert "UNCONFIRMED" in out


def test_check_id_unknown_kind_exits_2(capsys):
    line = run_error(capsys, "check-id", "11010519491231002X", "--kind", "ssn")
    assert "kind" in line
    assert "resident_id" in line


def test_assign_ssn(capsys):
    result = run_json(
        capsys, "assign-ssn", "--province", "11", "--nationality", "deu",
        "--birth", "1980-05-17", "--sex", "male",
    )  # fmt: skip
    assert result["number"] == "911276198005170018"  # hand-worked, see test_identifiers
    assert result["status_of_rule"] == "CONVENTION"
    assert result["details"]["sex"] == "male"


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--province", "99", "--nationality", "DEU", "--birth", "1980-05-17", "--sex", "male"],
         "province"),
        (["--province", "11", "--nationality", "GER", "--birth", "1980-05-17", "--sex", "male"],
         "nationality"),
        (["--province", "11", "--nationality", "DEU", "--birth", "17.05.1980", "--sex", "male"],
         "birth"),
        (["--province", "11", "--nationality", "DEU", "--birth", "1980-05-17", "--sex", "x"],
         "sex"),
    ],
)  # fmt: skip
def test_assign_ssn_bad_input_exits_2_naming_the_field(capsys, argv, field):
    line = run_error(capsys, "assign-ssn", *argv)
    assert line.startswith(f"expatsi: error: {field}:")


def test_deadline(capsys):
    result = run_json(
        capsys,
        "deadline",
        "--kind",
        "registration",
        "--from",
        "2025-01-10",
        "--today",
        "2025-02-12",
    )
    assert result["kind"] == "registration"
    assert result["start"] == "2025-01-10"
    assert result["due"] == "2025-02-09"
    assert result["status"] == "overdue"
    assert result["days_left"] == -3
    assert result["days_overdue"] == 3
    assert result["law"] == "MOHRSS Order No. 16, Art. 4"
    assert result["status_of_rule"] == "CONFIRMED"
    assert "30 days" in result["rule"]


def test_deadline_with_reminders_and_working_days(capsys):
    result = run_json(
        capsys,
        "deadline",
        "--kind",
        "proof_of_life",
        "--from",
        "2024-02-29",
        "--today",
        "2025-01-01",
    )
    assert result["due"] == "2025-02-28"
    assert result["reminders"] == ["2024-12-30", "2025-01-29", "2025-02-21"]
    assert result["status"] == "on_time"  # 58 days left; due_soon starts 30 days before
    result = run_json(
        capsys, "deadline", "--kind", "permit_cancellation", "--from", "2030-01-04",
        "--today", "2030-01-10",
    )  # fmt: skip
    assert result["due"] == "2030-01-18"
    assert result["calendar_complete"] is False


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--kind", "visa", "--from", "2025-01-10"], "kind"),
        (["--kind", "registration", "--from", "10/01/2025"], "from"),
        (["--kind", "registration", "--from", "2025-01-10", "--today", "tomorrow"], "today"),
    ],
)
def test_deadline_bad_input_exits_2_naming_the_field(capsys, argv, field):
    line = run_error(capsys, "deadline", *argv)
    assert line.startswith(f"expatsi: error: {field}:")


def test_deadline_missing_required_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["rules", "deadline", "--kind", "registration"])
    assert exc.value.code == 2
    assert "--from" in capsys.readouterr().err
