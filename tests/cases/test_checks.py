"""Every compliance rule with a fixture that must be found and one that must not.

Each test builds exactly the facts the rule looks at, runs the scan as the daily job does
(``compliance_scan`` as the system actor, as of a chosen day) and reads the findings back.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from django.db import connection

from expatsi.access.actors import SYSTEM
from expatsi.billing.models import Bill
from expatsi.billing.services import billing_run
from expatsi.cases.models import Finding
from expatsi.cases.services import compliance_scan
from expatsi.employers.models import Employer
from expatsi.rules.contributions import contributions_batch
from expatsi.rules.dates import Month
from tests.cases.conftest import (
    bill,
    card,
    certificate,
    crossing,
    declare,
    employ,
    pay,
    permit,
    person,
    register,
)

AS_OF = date(2025, 11, 20)
pytestmark = pytest.mark.django_db


def scan(as_of: date = AS_OF, **kwargs: object) -> None:
    compliance_scan(actor=SYSTEM, as_of=as_of, **kwargs)  # type: ignore[arg-type]


def found(rule: str) -> list[Finding]:
    return list(Finding.objects.filter(rule=rule).order_by("person_id", "period"))


# --- active permit, no registration after 30 days ---------------------------------------------------


def test_not_registered_found_after_the_30th_day(sh: Employer) -> None:
    p = person("Late")
    permit(p, date(2025, 8, 20), date(2028, 8, 19))
    employ(p, sh, date(2025, 9, 1), wage_yuan=30000)
    scan()
    [f] = found("not_registered")
    assert (f.employer_id, f.person_id, f.period) == (sh.pk, p.pk, "2025-09-01")
    # the clock starts at the later of the permit and the employment: 1 Sep + 30 days
    assert f.evidence["deadline"] == "2025-10-01"
    assert f.figures["days_late"] == 50
    assert f.severity == "high" and f.status == "open"
    # premiums payable: three months (Sep, Oct, Nov) at the month's contributions on the wage
    batch = contributions_batch(
        region_code="310000", month=Month(2025, 11), wages=np.array([3_000_000])
    )
    monthly = int(batch.employer_total[0] + batch.employee_total[0])
    assert f.figures["months"] == 3
    assert f.amount_fen == 3 * monthly


def test_not_registered_clock_starts_with_the_engagement_not_its_latest_version(
    sh: Employer,
) -> None:
    """The 30 days run from the start of the engagement; a later change of terms (a new version
    of the employment) does not restart them, nor hide an engagement still on time."""
    p = person("Versions")
    permit(p, date(2025, 8, 1), date(2028, 7, 31))
    first = employ(p, sh, date(2025, 8, 1), end=date(2025, 10, 31))
    first.engagement = first
    first.save()
    later = employ(p, sh, date(2025, 11, 1))  # 19 days before the scan: on time by itself
    later.engagement = first
    later.save()
    scan()
    [f] = found("not_registered")
    assert (f.person_id, f.period) == (p.pk, "2025-08-01")
    assert f.evidence["employment_start"] == "2025-08-01"
    assert f.evidence["deadline"] == "2025-08-31"


def test_not_registered_not_found_when_registered_or_still_on_time(sh: Employer) -> None:
    registered = person("Registered")
    permit(registered, date(2025, 8, 20), date(2028, 8, 19))
    register(employ(registered, sh, date(2025, 9, 1)), status="submitted")
    on_time = person("OnTime")
    permit(on_time, date(2025, 10, 1), date(2028, 9, 30))
    employ(on_time, sh, date(2025, 10, 21))  # day 30 is 20 Nov: the last day on time
    expired = person("NoPermit")
    permit(expired, date(2020, 1, 1), date(2024, 12, 31))  # no permit in force: not this rule
    employ(expired, sh, date(2025, 1, 1))
    scan()
    assert found("not_registered") == []


# --- registered, months not billed ---------------------------------------------------------------


def test_month_not_billed_found_after_its_due_date(sh: Employer) -> None:
    p = person("Unbilled")
    e = employ(p, sh, date(2025, 9, 1))
    register(e)
    bill(sh, "2025-09", date(2025, 10, 15), [{"person": p, "insurance": 1, "employer_amount": 100}])
    scan()  # October is due 15 Nov: past; November is due 15 Dec: not yet
    [f] = found("months_not_billed")  # one finding per employer and month, naming the people
    assert (f.employer_id, f.person_id, f.period) == (sh.pk, None, "2025-10")
    assert f.evidence == {
        "month": "2025-10",
        "due_date": "2025-11-15",
        "people": 1,
        "person_ids": [p.pk],
    }
    batch = contributions_batch(
        region_code="310000", month=Month(2025, 10), wages=np.array([3_000_000])
    )
    assert f.amount_fen == int(batch.employer_total[0] + batch.employee_total[0])


def test_months_billed_or_not_registered_are_not_found(sh: Employer, sh2: Employer) -> None:
    p = person("Billed")
    register(employ(p, sh, date(2025, 9, 1)))
    bill(sh, "2025-09", date(2025, 10, 15), [{"person": p, "insurance": 1, "employer_amount": 100}])
    bill(sh, "2025-10", date(2025, 11, 15), [{"person": p, "insurance": 1, "employer_amount": 100}])
    not_registered = person("Submitted")
    register(employ(not_registered, sh2, date(2025, 9, 1)), status="submitted")
    scan()
    assert found("months_not_billed") == []


def test_a_month_on_two_bills_counts_once(sh: Employer) -> None:
    """September on the regular bill and on an adjustment beside it is billed (once), and the
    unbilled October next to it is still found: a billed month is a bit of a mask per person."""
    p = person("Adjusted")
    register(employ(p, sh, date(2025, 9, 1)))
    line = {"person": p, "insurance": 1, "employer_amount": 100}
    bill(sh, "2025-09", date(2025, 10, 15), [line])
    bill(sh, "2025-09", date(2025, 10, 15), [line], kind="adjustment")
    scan()
    assert [f.period for f in found("months_not_billed")] == ["2025-10"]


def _medical(*people: object) -> list[dict[str, object]]:
    return [{"person": p, "insurance": 1, "employer_amount": 100} for p in people]


def test_a_month_billed_for_as_many_people_but_not_the_same_is_found(
    sh: Employer, sh2: Employer
) -> None:
    """October's bill has as many lines as sh employs, but one is for someone employed elsewhere
    in place of a registered employee: a count of lines would call October billed."""
    registered, unregistered, elsewhere = person("Registered"), person("Unregistered"), person("X")
    register(employ(registered, sh, date(2025, 9, 1)))
    employ(unregistered, sh, date(2025, 9, 1))  # billed (the run bills employments), not checked
    employ(elsewhere, sh2, date(2025, 9, 1))
    bill(sh, "2025-09", date(2025, 10, 15), _medical(registered, unregistered))
    bill(sh, "2025-10", date(2025, 11, 15), _medical(unregistered, elsewhere))
    scan()
    [f] = found("months_not_billed")
    assert (f.period, f.evidence["person_ids"]) == ("2025-10", [registered.pk])


def test_who_pays_the_month_an_employment_starts_mid_month(sh: Employer, sh2: Employer) -> None:
    """Starting on 15 September at sh: September is sh's to bill, unless another employment
    covered 1 September (then that employer pays it, as the billing run decides)."""
    stays, starts, moves = person("Stays"), person("Starts"), person("Moves")
    register(employ(stays, sh, date(2025, 9, 1)))
    register(employ(starts, sh, date(2025, 9, 15)))  # nowhere else on 1 September
    employ(moves, sh2, date(2025, 1, 1), end=date(2025, 9, 14))
    register(employ(moves, sh, date(2025, 9, 15)))
    bill(sh, "2025-09", date(2025, 10, 15), _medical(stays))
    bill(sh, "2025-10", date(2025, 11, 15), _medical(stays, starts, moves))
    bill(sh2, "2025-09", date(2025, 10, 15), _medical(moves))
    scan()
    [f] = found("months_not_billed")
    assert (f.employer_id, f.period, f.evidence["person_ids"]) == (sh.pk, "2025-09", [starts.pk])


def test_months_billed_by_the_billing_run_are_not_found(sh: Employer) -> None:
    """The check reads what the real run writes (exempted insurances included)."""
    p = person("Exempted", "DEU")  # pension and unemployment exempted under the agreement
    certificate(p, date(2025, 1, 1), date(2027, 12, 31))
    register(employ(p, sh, date(2025, 9, 1)))
    for m in (Month(2025, 9), Month(2025, 10)):
        billing_run(actor=SYSTEM, region_code="310000", month=m)
    assert Bill.objects.filter(employer=sh).count() == 2
    scan()
    assert found("months_not_billed") == []
    assert found("exemption_without_certificate") == []


def test_someone_employed_after_the_runs_wrote_their_bills_is_found(sh: Employer) -> None:
    """On PostgreSQL the run's bills carry who they bill (a count and a hash of the people), which
    the check compares with who is employed instead of reading the lines: a person registered
    for September and October after both runs is missing from that pair, and found."""
    billed = person("Billed")
    register(employ(billed, sh, date(2025, 9, 1)))
    for m in (Month(2025, 9), Month(2025, 10)):
        billing_run(actor=SYSTEM, region_code="310000", month=m)
    pairs = set(Bill.objects.values_list("medical_people", flat=True))
    assert pairs == ({1} if connection.vendor == "postgresql" else {None})
    late = person("Late")
    register(employ(late, sh, date(2025, 9, 1)))
    scan()
    assert [(f.period, f.evidence["person_ids"]) for f in found("months_not_billed")] == [
        ("2025-09", [late.pk]),
        ("2025-10", [late.pk]),
    ]


# --- billed, unpaid past the due date -----------------------------------------------------------


def test_unpaid_bill_found_with_the_late_fee_from_the_ledger(sh: Employer) -> None:
    b = bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    pay(b, 40_000, date(2025, 10, 10))
    scan()
    [f] = found("unpaid_past_due")
    assert f.person_id is None and f.period == b.number
    assert f.amount_fen == 60_000  # 1,000.00 billed − 400.00 paid
    assert f.evidence["paid_fen"] == 40_000
    # 16 Oct … 20 Nov = 36 days × 0.05% × 600.00 yuan = 10.80 yuan
    assert f.figures == {"days_overdue": 36, "late_fee_fen": 1080}


def test_paid_or_not_yet_due_bills_are_not_found(sh: Employer) -> None:
    paid = bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    pay(paid, 100_000, date(2025, 10, 20))
    bill(sh, "2025-10", date(2025, 11, 20), total=100_000)  # due today: not past due
    scan()
    assert found("unpaid_past_due") == []


# --- contributions after deregistration, after leaving China ------------------------------------


def test_billed_after_deregistration_found_from_the_next_month(sh: Employer) -> None:
    p = person("Gone")
    card(
        p,
        sh,
        "deregistered",
        date(2024, 1, 1),
        date(2026, 12, 31),
        deregistered_on=date(2025, 9, 10),
    )
    bill(
        sh,
        "2025-09",
        date(2025, 10, 15),
        [{"person": p, "employer_amount": 500, "employee_amount": 200}],
    )
    bill(
        sh,
        "2025-10",
        date(2025, 11, 15),
        [{"person": p, "employer_amount": 500, "employee_amount": 200}],
    )
    scan()
    [f] = found("billed_after_deregistration")
    assert (f.person_id, f.period, f.amount_fen) == (p.pk, "2025-10", 700)
    assert f.evidence["deregistered_on"] == "2025-09-10"


def test_billed_after_deregistration_sums_the_months_bills_at_that_employer_only(
    sh: Employer, sh2: Employer
) -> None:
    """The amount is every line of the person on every bill of the month at the employer of the
    deregistered card (its regular bill and an adjustment), not a bill of another employer."""
    p = person("GoneTwice")
    card(
        p,
        sh,
        "deregistered",
        date(2024, 1, 1),
        date(2026, 12, 31),
        deregistered_on=date(2025, 9, 10),
    )
    other = person("Colleague")
    bill(
        sh,
        "2025-10",
        date(2025, 11, 15),
        [
            {"person": p, "insurance": 0, "employer_amount": 500, "employee_amount": 200},
            {"person": p, "insurance": 1, "employer_amount": 300, "employee_amount": 100},
            {"person": other, "insurance": 0, "employer_amount": 9_000},
        ],
    )
    bill(
        sh, "2025-10", date(2025, 11, 15), [{"person": p, "employer_amount": 50}], kind="adjustment"
    )
    bill(sh2, "2025-10", date(2025, 11, 15), [{"person": p, "employer_amount": 7_000}])
    scan()
    [f] = found("billed_after_deregistration")
    assert (f.employer_id, f.person_id, f.period) == (sh.pk, p.pk, "2025-10")
    assert f.amount_fen == 500 + 200 + 300 + 100 + 50


def test_billed_with_a_card_in_force_is_not_found(sh: Employer) -> None:
    p = person("Active")
    card(p, sh, "active", date(2024, 1, 1), date(2026, 12, 31))
    bill(sh, "2025-10", date(2025, 11, 15), [{"person": p, "employer_amount": 500}])
    renewed = person("Renewed")  # deregistered, then a new card at the same employer
    card(
        renewed,
        sh,
        "deregistered",
        date(2023, 1, 1),
        date(2025, 1, 1),
        deregistered_on=date(2025, 1, 1),
    )
    card(renewed, sh, "active", date(2025, 2, 1), date(2027, 1, 31))
    bill(sh, "2025-09", date(2025, 10, 15), [{"person": renewed, "employer_amount": 500}])
    scan()
    assert found("billed_after_deregistration") == []


def test_billed_after_exit_without_reentry_found(sh: Employer) -> None:
    p = person("Left")
    crossing(p, date(2025, 8, 5), "exit")
    bill(sh, "2025-08", date(2025, 9, 15), [{"person": p, "employer_amount": 300}])
    bill(sh, "2025-09", date(2025, 10, 15), [{"person": p, "employer_amount": 300}])
    scan()
    [f] = found("billed_after_exit")
    assert (f.person_id, f.period, f.amount_fen) == (p.pk, "2025-09", 300)
    assert f.evidence["exit_on"] == "2025-08-05"


def test_billed_after_exit_counts_each_month_once_after_two_exits(sh: Employer) -> None:
    """Two exits with no entry between (an entry missing from the border records): the month's
    amount is what was billed, not once per exit, and the departure is the first of them."""
    p = person("TwiceGone")
    crossing(p, date(2025, 7, 1), "exit")
    crossing(p, date(2025, 8, 5), "exit")
    bill(sh, "2025-09", date(2025, 10, 15), [{"person": p, "employer_amount": 300}])
    scan()
    [f] = found("billed_after_exit")
    assert (f.person_id, f.period, f.amount_fen) == (p.pk, "2025-09", 300)
    assert f.evidence["exit_on"] == "2025-07-01"


def test_trips_and_returns_are_not_departures(sh: Employer) -> None:
    back = person("Back")
    crossing(back, date(2025, 8, 5), "exit")
    crossing(back, date(2025, 8, 25), "entry")
    trip = person("Trip")
    crossing(trip, date(2025, 10, 25), "exit")  # 26 days ago: under the 60 days of a departure
    bill(
        sh,
        "2025-11",
        date(2025, 12, 15),
        [{"person": p, "employer_amount": 300} for p in (back, trip)],
    )
    scan()
    assert found("billed_after_exit") == []


# --- base below the lower limit -----------------------------------------------------------------


def test_declared_base_below_the_lower_limit_found(sh: Employer) -> None:
    p = person("Low")
    declare(p, sh, "2025-07", 800_000)
    declare(p, sh, "2025-07", 700_000)  # the latest declaration counts
    scan()
    [f] = found("base_below_lower_limit")
    # Shanghai 2025-07…2026-06: lower limit 7,460 yuan (310000-shanghai.toml)
    assert f.evidence == {
        "period_start": "2025-07",
        "declared_fen": 700_000,
        "lower_limit_fen": 746_000,
    }
    assert f.amount_fen == (46_000 * f.figures["rate_ppm"] + 500_000) // 1_000_000


def test_declared_base_at_or_above_the_lower_limit_not_found(sh: Employer) -> None:
    p = person("Fine")
    declare(p, sh, "2025-07", 700_000)
    declare(p, sh, "2025-07", 746_000)  # corrected to the limit
    scan()
    assert found("base_below_lower_limit") == []


# --- exemption without a certificate of coverage ------------------------------------------------


def test_exemption_without_certificate_found(sh: Employer) -> None:
    p = person("Exempt", "DEU")
    bill(
        sh,
        "2025-09",
        date(2025, 10, 15),
        [
            {
                "person": p,
                "base": 3_000_000,
                "employer_rate": 160_000,
                "employee_rate": 80_000,
                "flags": 1,
            }
        ],
    )
    scan()
    [f] = found("exemption_without_certificate")
    assert (f.person_id, f.period) == (p.pk, "2025-09")
    assert f.amount_fen == 480_000 + 240_000  # 16% and 8% of 30,000 yuan


def test_exemption_with_a_certificate_covering_the_month_not_found(sh: Employer) -> None:
    p = person("Covered", "DEU")
    certificate(p, date(2025, 9, 1), date(2027, 8, 31))
    late = person("Corrected", "DEU")  # exempted, then billed in full by an adjustment
    bill(
        sh, "2025-09", date(2025, 10, 15), [{"person": p, "flags": 1}, {"person": late, "flags": 1}]
    )
    bill(
        sh,
        "2025-09",
        date(2025, 11, 15),
        [{"person": late, "employer_amount": 480_000}],
        kind="adjustment",
    )
    scan()
    assert found("exemption_without_certificate") == []


def test_a_certificate_covers_the_months_whose_first_day_it_covers(sh: Employer) -> None:
    """A month is covered when its first day is: a certificate from 2 September leaves September
    exempted without cover (October is covered); one that ends on 1 November covers November."""
    starts_late, ends_early = person("Late", "DEU"), person("Ends", "DEU")
    ended = person("Ended", "DEU")
    certificate(starts_late, date(2025, 9, 2), date(2027, 8, 31))
    certificate(ends_early, date(2024, 1, 1), date(2025, 11, 1))
    certificate(ended, date(2024, 1, 1), date(2025, 10, 31))
    for month, due in (("2025-09", date(2025, 10, 15)), ("2025-10", date(2025, 11, 15))):
        bill(sh, month, due, [{"person": starts_late, "flags": 1}])
    bill(
        sh, "2025-11", date(2025, 12, 15), [{"person": p, "flags": 1} for p in (ends_early, ended)]
    )
    scan(date(2025, 12, 20))
    got = sorted((f.person_id, f.period) for f in found("exemption_without_certificate"))
    assert got == sorted([(starts_late.pk, "2025-09"), (ended.pk, "2025-11")])


# --- signs of illegal employment ----------------------------------------------------------------


def test_illegal_employment_on_an_expired_or_deregistered_card(sh: Employer) -> None:
    expired = person("Expired")
    card(expired, sh, "expired", date(2023, 1, 1), date(2025, 10, 31))
    employ(expired, sh, date(2023, 1, 1))
    dereg = person("Dereg")
    card(
        dereg,
        sh,
        "deregistered",
        date(2023, 1, 1),
        date(2026, 12, 31),
        deregistered_on=date(2025, 9, 1),
    )
    employ(dereg, sh, date(2023, 1, 1))
    stale = person("Stale")  # still marked active, but past its end
    card(stale, sh, "active", date(2023, 1, 1), date(2025, 11, 19))
    employ(stale, sh, date(2023, 1, 1))
    scan()
    signs = {f.person_id: f.evidence["sign"] for f in found("illegal_employment")}
    assert signs == {
        expired.pk: "card_expired",
        dereg.pk: "card_deregistered",
        stale.pk: "card_expired",
    }
    assert {f.amount_fen for f in found("illegal_employment")} == {1_000_000}  # 10,000 yuan


def test_illegal_employment_for_an_employer_other_than_the_cards(
    sh: Employer, sh2: Employer
) -> None:
    p = person("Moonlight")
    card(p, sh, "active", date(2024, 1, 1), date(2026, 12, 31))
    employ(p, sh, date(2024, 1, 1))
    employ(p, sh2, date(2025, 6, 1))
    scan()
    [f] = found("illegal_employment")
    assert (f.employer_id, f.person_id, f.evidence["sign"]) == (sh2.pk, p.pk, "other_employer")


def test_illegal_employment_dates_a_changed_employment_from_its_first_version(
    sh: Employer,
) -> None:
    """A change of terms opens a new version of the employment: the evidence names the day the
    engagement began, not the day of the change."""
    p = person("Changed")
    card(p, sh, "expired", date(2023, 1, 1), date(2025, 10, 31))
    first = employ(p, sh, date(2023, 3, 1), end=date(2025, 5, 31))
    first.engagement = first
    first.save()
    later = employ(p, sh, date(2025, 6, 1))
    later.engagement = first
    later.save()
    scan()
    [f] = found("illegal_employment")
    assert f.evidence["employment_start"] == "2023-03-01"
    assert f.period == "2023-03-01"


def test_lawful_employment_not_found(sh: Employer) -> None:
    ok = person("Valid")
    card(ok, sh, "active", date(2024, 1, 1), date(2026, 12, 31))
    employ(ok, sh, date(2024, 1, 1))
    resident = person("Resident")  # permanent residents need no work permit
    card(resident, sh, "expired", date(2020, 1, 1), date(2023, 1, 1))
    permit(resident, date(2023, 1, 1), date(2033, 1, 1), kind="permanent_resident_id")
    employ(resident, sh, date(2020, 1, 1))
    legacy = person("Legacy")  # a work permit before the Integrated Card, still valid
    permit(legacy, date(2023, 1, 1), date(2026, 1, 1), kind="work_permit")
    employ(legacy, sh, date(2023, 1, 1))
    ended = person("Ended")  # the employment ended with the card
    card(ended, sh, "expired", date(2023, 1, 1), date(2025, 6, 30))
    employ(ended, sh, date(2023, 1, 1), end=date(2025, 6, 30))
    scan()
    assert found("illegal_employment") == []


def test_illegal_employment_on_an_expired_work_permit_before_the_card(sh: Employer) -> None:
    p = person("OldPermit")
    permit(p, date(2021, 1, 1), date(2025, 1, 1), kind="work_permit")
    employ(p, sh, date(2021, 1, 1))
    scan()
    [f] = found("illegal_employment")
    assert f.evidence["sign"] == "permit_expired"


# --- scope ----------------------------------------------------------------------------------------


def test_a_scan_of_one_region_or_employer_looks_nowhere_else(sh: Employer, bj: Employer) -> None:
    for employer in (sh, bj):
        bill(employer, "2025-09", date(2025, 10, 15), total=100_000)
    scan(region_code="110000")
    assert {f.employer_id for f in found("unpaid_past_due")} == {bj.pk}
    scan(employer_id=sh.pk)
    assert {f.employer_id for f in found("unpaid_past_due")} == {bj.pk, sh.pk}


def test_a_month_beyond_the_lookback_is_not_resolved_by_its_absence(sh: Employer) -> None:
    p = person("Unbilled")
    register(employ(p, sh, date(2025, 9, 1), end=date(2025, 10, 31)))
    scan()
    assert [f.period for f in found("months_not_billed")] == ["2025-09", "2025-10"]
    scan(date(2028, 1, 20))  # 24 months back reach only 2026-01: these months are not looked at
    assert all(f.resolved_on is None for f in found("months_not_billed"))
