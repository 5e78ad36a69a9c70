"""Disputes and complaints in a real browser, in English and in Chinese: a foreign employee asks
the agency to intervene, agency staff reply, and the reply is in the employee's inbox; the
employer's HR record a dispute in mediation, the employee hears of it in their inbox and takes it
to arbitration."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from expatsi.cases.models import Complaint, Dispute, DisputeStage
from expatsi.employers.models import Employer
from expatsi.people.models import Person
from tests.browser.conftest import login, shot
from tests.cases.conftest import employ, person
from tests.portal.factories import PASSWORD, make_agency, make_hr, make_user

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "": {
        "send": "Send",
        "reply": "Send the reply",
        "reply_subject": "Reply of the social insurance agency",
        "record": "Record the dispute",
        "opened": "A dispute was recorded",
        "next": "Record the next stage",
        "arbitration": "Arbitration",
    },
    "/zh-hans": {
        "send": "提交",
        "reply": "发送答复",
        "reply_subject": "社会保险经办机构的答复",
        "record": "登记该争议",
        "opened": "已登记争议",
        "next": "记录下一阶段",
        "arbitration": "仲裁",
    },
}


def _world() -> dict[str, Any]:
    employer = Employer.objects.create(
        name="Pujiang Precision (Shanghai) Co., Ltd.",
        uscc="91310000MA1FL8X3P0",
        region_code="310000",
    )
    keller = person("Keller", "DEU")
    employ(keller, employer, date(2025, 1, 1))
    Person.objects.filter(pk=keller.pk).update(user=make_user("keller"))
    make_hr(employer, "hr")
    make_agency("officer")
    return {"employer": employer, "keller": keller}


@pytest.mark.parametrize("prefix", ["", "/zh-hans"])
def test_the_agencys_reply_to_a_request_to_intervene_reaches_the_employee(
    page: Any, browser: Any, live_server: Any, prefix: str
) -> None:
    words = TEXT[prefix]
    w = _world()
    base = live_server.url

    login(page, base, "keller", PASSWORD)
    page.goto(f"{base}{prefix}/cases/complaints/new/")
    page.check("input[name=kind][value=intervention]")
    page.select_option("#id_employer", str(w["employer"].pk))
    page.fill("#id_subject", "Contributions not paid")
    page.fill("#id_details", "My employer has not paid my contributions since September.")
    with page.expect_navigation():
        page.get_by_role("button", name=words["send"], exact=True).click()
    complaint = Complaint.objects.get()

    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    staff = staff_context.new_page()
    try:
        login(staff, base, "officer", PASSWORD)
        staff.goto(f"{base}{prefix}/cases/complaints/{complaint.pk}/")
        staff.fill("#id_reply", "We have opened an inspection of your employer.")
        with staff.expect_navigation():
            staff.get_by_role("button", name=words["reply"]).click()
        assert "We have opened an inspection" in staff.locator("#reply").inner_text()
    finally:
        staff_context.close()

    page.goto(f"{base}{prefix}/inbox/")
    inbox = page.locator("main").inner_text()
    assert f"{words['reply_subject']}" in inbox and complaint.number in inbox
    assert "We have opened an inspection of your employer." in inbox
    shot(page, f"complaint-reply-inbox{prefix.replace('/', '-')}")


@pytest.mark.parametrize("prefix", ["", "/zh-hans"])
def test_a_dispute_recorded_by_hr_goes_from_mediation_to_arbitration(
    page: Any, browser: Any, live_server: Any, prefix: str
) -> None:
    words = TEXT[prefix]
    w = _world()
    base = live_server.url

    hr_context = browser.new_context(viewport={"width": 1280, "height": 900})
    hr = hr_context.new_page()
    try:
        login(hr, base, "hr", PASSWORD)
        hr.goto(f"{base}{prefix}/cases/disputes/new/")
        hr.select_option("#id_employer", str(w["employer"].pk))
        hr.select_option("#id_person", str(w["keller"].pk))
        hr.check("input[name=subject_kind][value=other]")
        hr.fill("#id_claim", "The employee's contract wage is disputed.")
        hr.select_option("#id_stage", "mediation")
        with hr.expect_navigation():
            hr.get_by_role("button", name=words["record"]).click()
    finally:
        hr_context.close()
    dispute = Dispute.objects.get()
    assert dispute.stage == DisputeStage.MEDIATION and dispute.opened_as == "hr"

    login(page, base, "keller", PASSWORD)
    page.goto(f"{base}{prefix}/inbox/")
    assert f"{words['opened']}" in page.locator("main").inner_text()
    page.goto(f"{base}{prefix}/cases/disputes/{dispute.pk}/")
    page.select_option("#id_stage", "arbitration")
    with page.expect_navigation():
        page.get_by_role("button", name=words["next"]).click()
    assert page.locator("#dispute-stage").inner_text() == words["arbitration"]
    shot(page, f"dispute-arbitration{prefix.replace('/', '-')}")
    dispute.refresh_from_db()
    assert dispute.stage == DisputeStage.ARBITRATION and dispute.arbitration_on is not None
