from datetime import date

from expatsi.rules.eligibility import DocumentSpan, eligibility

PERMIT = DocumentSpan("integrated_card", date(2025, 1, 10), date(2026, 1, 9))
RESIDENCE = DocumentSpan("residence_permit", date(2025, 2, 1), date(2026, 1, 31))


def test_permit_and_residence_make_a_foreigner_working_in_china():
    e = eligibility([PERMIT, RESIDENCE], date(2025, 6, 1))
    assert e.eligible
    assert e.basis == "employment_and_residence"
    assert e.since == date(2025, 2, 1)  # from the day the residence permit began


def test_permit_without_residence_says_which_condition_fails():
    e = eligibility([PERMIT], date(2025, 6, 1))
    assert not e.eligible
    assert e.failing == ("no_valid_residence_permit",)
    assert e.since is None  # never eligible on the records


def test_expired_permit_fails_since_the_day_after_expiry():
    e = eligibility([PERMIT, RESIDENCE], date(2026, 1, 20))
    assert not e.eligible
    assert e.failing == ("no_valid_employment_document",)
    assert e.since == date(2026, 1, 10)


def test_both_missing():
    e = eligibility([], date(2025, 6, 1))
    assert e.failing == ("no_valid_employment_document", "no_valid_residence_permit")


def test_permanent_resident_card_suffices_alone():
    card = DocumentSpan("permanent_resident_id", date(2024, 3, 1), None)
    e = eligibility([card], date(2025, 6, 1))
    assert e.eligible
    assert e.basis == "permanent_residence"
    assert e.since == date(2024, 3, 1)


def test_press_card_counts_as_an_employment_document():
    press = DocumentSpan("press_card", date(2025, 1, 1), date(2025, 12, 31))
    assert eligibility([press, RESIDENCE], date(2025, 6, 1)).eligible


def test_a_renewed_permit_keeps_eligibility_unbroken():
    renewed = DocumentSpan("integrated_card", date(2026, 1, 10), date(2027, 1, 9))
    residence2 = DocumentSpan("residence_permit", date(2026, 2, 1), date(2027, 1, 31))
    e = eligibility([PERMIT, RESIDENCE, renewed, residence2], date(2026, 6, 1))
    assert e.eligible
    assert e.since == date(2025, 2, 1)
