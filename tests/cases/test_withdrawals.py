"""Withdrawing one fine proposal before the decision, with a reason, audited; refused after the
decision. Service, page and API.

The case: one "not registered" finding with premiums payable of ¥12,345.00, so a fine for not
registering lies within 1–3 × = ¥12,345.00 … ¥37,035.00 (SIL Art. 84)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.access.models import AgencyStaff
from expatsi.audit.models import AuditEvent
from expatsi.cases import services, withdrawals
from expatsi.cases.models import Case, CaseEvent, FineProposal
from expatsi.employers.models import Employer, HrMembership
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from tests.cases.conftest import finding, person
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db
STAFF = Actor("agency", None, "officer-all", regions=None)
STAFF_BJ = Actor("agency", None, "officer-bj", regions=frozenset({"110000"}))


def _proposed(employer: Employer, n: int = 2) -> tuple[Case, list[FineProposal]]:
    """A case past its order's deadline with ``n`` fine proposals (¥12,345.00, ¥20,000.00 …)."""
    f = finding("not_registered", employer, person(), amount=1_234_500)
    case = services.case_open(actor=STAFF, finding_ids=[f.pk])
    services.order_issue(
        actor=STAFF, case_id=case.pk, deadline=timezone.localdate() + timedelta(days=30)
    )
    Case.objects.filter(pk=case.pk).update(order_deadline=timezone.localdate() - timedelta(days=1))
    amounts = [1_234_500, 2_000_000, 3_000_000][:n]
    proposals = [
        services.fine_propose(
            actor=STAFF, case_id=case.pk, kind="failure_to_register", amount_fen=a, reason="r"
        )
        for a in amounts
    ]
    return Case.objects.get(pk=case.pk), proposals


def test_one_proposal_is_withdrawn_with_its_reason_and_audited(sh: Employer) -> None:
    case, (first, second) = _proposed(sh)
    done = withdrawals.fine_withdraw(
        actor=STAFF, case_id=case.pk, proposal_id=first.pk, reason="proposed twice by mistake"
    )
    assert done.status == "withdrawn"
    second.refresh_from_db()
    case.refresh_from_db()
    assert second.status == "proposed" and case.status == "fine_proposed"
    event = CaseEvent.objects.filter(case=case).last()
    assert event is not None and event.action == "withdraw_fine"
    assert event.detail == {
        "proposal": first.pk,
        "kind": "failure_to_register",
        "amount": "12345.00",
        "reason": "proposed twice by mistake",
    }
    audit = AuditEvent.objects.filter(action="case.withdraw_fine").get()
    assert audit.object_id == str(case.pk)
    assert audit.detail["reason"] == "proposed twice by mistake"
    # Asked again (a retried request): nothing more is written.
    withdrawals.fine_withdraw(actor=STAFF, case_id=case.pk, proposal_id=first.pk, reason="again")
    assert AuditEvent.objects.filter(action="case.withdraw_fine").count() == 1
    # The decision adopts only what still stands.
    decided = services.case_decide(actor=STAFF, case_id=case.pk, outcome="fine", reason="ok")
    assert decided.fine_total_fen == 2_000_000


def test_withdrawing_the_last_proposal_returns_the_case_to_ordered(sh: Employer) -> None:
    case, (only,) = _proposed(sh, 1)
    withdrawals.fine_withdraw(actor=STAFF, case_id=case.pk, proposal_id=only.pk, reason="wrong")
    case.refresh_from_db()
    assert case.status == "ordered"
    with pytest.raises(Conflict) as no_fine:
        services.case_decide(actor=STAFF, case_id=case.pk, outcome="fine", reason="x")
    assert no_fine.value.code == "no_proposal"


def test_refused_after_the_decision_without_a_reason_and_out_of_scope(
    sh: Employer, bj: Employer
) -> None:
    case, (first, _second) = _proposed(sh)
    with pytest.raises(RuleError) as blank:
        withdrawals.fine_withdraw(actor=STAFF, case_id=case.pk, proposal_id=first.pk, reason=" ")
    assert (blank.value.code, blank.value.field) == ("reason_required", "reason")
    with pytest.raises(NotFound):
        withdrawals.fine_withdraw(actor=STAFF_BJ, case_id=case.pk, proposal_id=first.pk, reason="x")
    _other, (foreign,) = _proposed(bj, 1)
    with pytest.raises(NotFound) as elsewhere:  # a proposal of another case
        withdrawals.fine_withdraw(actor=STAFF, case_id=case.pk, proposal_id=foreign.pk, reason="x")
    assert elsewhere.value.code == "proposal_not_found"
    hr = Actor("hr", None, "hr", employer_ids=frozenset({sh.pk}))
    with pytest.raises(Forbidden):
        withdrawals.fine_withdraw(actor=hr, case_id=case.pk, proposal_id=first.pk, reason="x")
    services.case_decide(actor=STAFF, case_id=case.pk, outcome="fine", reason="decided")
    with pytest.raises(Conflict) as decided:
        withdrawals.fine_withdraw(actor=STAFF, case_id=case.pk, proposal_id=first.pk, reason="x")
    assert decided.value.code == "already_decided"
    first.refresh_from_db()
    assert first.status == "adopted"
    assert not AuditEvent.objects.filter(action="case.withdraw_fine").exists()


@pytest.fixture
def staff_client(sh: Employer) -> Client:
    user = get_user_model().objects.create_user(username="officer")
    AgencyStaff.objects.create(user=user, regions="")
    return verified_login(Client(), user)


def test_the_page_withdraws_one_proposal(sh: Employer, staff_client: Client) -> None:
    case, (first, second) = _proposed(sh)
    detail = staff_client.get(f"/cases/{case.pk}/")
    assert f"/cases/{case.pk}/fines/withdraw/?proposal={first.pk}" in detail.text
    page = staff_client.get(f"/cases/{case.pk}/fines/withdraw/", {"proposal": first.pk})
    assert page.status_code == 200 and "¥12,345.00" in page.text and "¥20,000.00" in page.text
    refused = staff_client.post(
        f"/cases/{case.pk}/fines/withdraw/", {"proposal": first.pk, "reason": ""}
    )
    assert refused.status_code == 400 and 'id="id_reason_error"' in refused.text
    done = staff_client.post(
        f"/cases/{case.pk}/fines/withdraw/", {"proposal": first.pk, "reason": "made twice"}
    )
    assert done.status_code == 302 and done["Location"].endswith(f"/cases/{case.pk}/")
    first.refresh_from_db()
    assert first.status == "withdrawn"
    history = staff_client.get(f"/cases/{case.pk}/").text
    assert "Fine proposal withdrawn" in history and "made twice" in history
    zh = staff_client.get(f"/zh-hans/cases/{case.pk}/fines/withdraw/")
    assert zh.status_code == 200 and "撤回" in zh.text
    services.case_decide(actor=STAFF, case_id=case.pk, outcome="fine", reason="decided")
    after = staff_client.post(
        f"/cases/{case.pk}/fines/withdraw/", {"proposal": second.pk, "reason": "late"}
    )
    assert after.status_code == 400  # no longer offered: decided
    second.refresh_from_db()
    assert second.status == "adopted"


def test_hr_and_other_regions_cannot_open_the_page(sh: Employer) -> None:
    case, _ = _proposed(sh, 1)
    model = get_user_model()
    hr = model.objects.create_user(username="hr")
    HrMembership.objects.create(user=hr, employer=sh)
    bj_staff = model.objects.create_user(username="bj")
    AgencyStaff.objects.create(user=bj_staff, regions="110000")
    url = f"/cases/{case.pk}/fines/withdraw/"
    assert verified_login(Client(), hr).get(url).status_code == 403
    assert verified_login(Client(), bj_staff).get(url).status_code == 404


def test_the_api_withdraws_and_refuses_after_the_decision(
    sh: Employer, staff_client: Client
) -> None:
    case, (first, second) = _proposed(sh)
    url = f"/api/v1/cases/{case.pk}/fine-proposals/withdraw"

    def post(body: dict[str, Any]) -> Any:
        return staff_client.post(url, json.dumps(body), content_type="application/json")

    done = post({"proposal_id": first.pk, "reason": "made twice"})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "withdrawn" and done.json()["amount"] == "12345.00"
    assert post({"proposal_id": first.pk, "reason": ""}).status_code in (400, 422)
    services.case_decide(actor=STAFF, case_id=case.pk, outcome="fine", reason="decided")
    refused = post({"proposal_id": second.pk, "reason": "late"})
    assert refused.status_code == 409 and refused.json()["code"] == "already_decided"
