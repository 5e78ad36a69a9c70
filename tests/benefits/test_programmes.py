"""Benefit programmes: defined as data, applied for by the card holder (portal and API), reviewed by
the agency of the holder's region, paid through the payment run as a ``subsidy`` payout.

The holder: employed in Beijing since July 2025 at 30,000 yuan, July–September billed and paid
(3 contribution months), an active Integrated Card. The programmes are a test file of four.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from expatsi.access.actors import actor_for_user
from expatsi.audit.models import AuditEvent
from expatsi.benefits import pain001, programmes, services
from expatsi.benefits.models import Payout, ProgrammeApplication
from expatsi.employers.models import Employer
from expatsi.notify.models import Notification
from expatsi.people.models import Person
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from tests.benefits.conftest import MONTHS, bill_and_pay
from tests.billing.conftest import beijing, employ, make_person  # noqa: F401 - fixture by name
from tests.cards.helpers import active_card
from tests.portal.factories import make_agency, make_user
from tests.twofactor import verified_login

PROGRAMMES = """
[[programmes]]
code = "newcomer"
name = "Newcomer allowance"
name_zh = "新来华人员补助"
description = "For card holders in Beijing insured at least three months."
description_zh = "面向在北京参保满三个月的持卡人。"
min_months = 3
regions = ["110000"]
effective_from = "2020-01-01"
amount_fen = 80000
status = "UNCONFIRMED"
source = "Test programme"

[[programmes]]
code = "veteran"
name = "Long service allowance"
name_zh = "长期参保补助"
min_months = 12
regions = []
effective_from = "2020-01-01"
amount_fen = 150000
status = "UNCONFIRMED"
source = "Test programme"

[[programmes]]
code = "shanghai_only"
name = "Shanghai allowance"
name_zh = "上海补助"
min_months = 0
regions = ["310000"]
effective_from = "2020-01-01"
amount_fen = 50000
status = "UNCONFIRMED"
source = "Test programme"

[[programmes]]
code = "closed"
name = "Closed allowance"
name_zh = "已结束补助"
min_months = 0
regions = []
effective_from = "2020-01-01"
effective_to = "2020-12-31"
amount_fen = 50000
status = "UNCONFIRMED"
source = "Test programme"
"""
BANK = {
    "holder": "Ana Silva",
    "country": "PRT",
    "iban": "PT50000201231234567890154",
    "account_number": "",
    "bank_code": "",
    "bic": "CGDIPTPLXXX",
    "currency": "EUR",
}
API = "/api/v1/benefits"


@pytest.fixture(autouse=True)
def sample_programmes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "programmes.toml"
    path.write_text(PROGRAMMES, encoding="utf-8")
    loaded = programmes.load(path)
    monkeypatch.setattr(programmes, "programmes", lambda: loaded)


@pytest.fixture
def holder(beijing: Employer) -> Any:  # noqa: F811 - the fixture imported above
    person = make_person("Silva", "PRT", birth=date(1990, 3, 1))
    employ(person, beijing, 30000, start=date(2025, 7, 1))
    for m in MONTHS:
        bill_and_pay(beijing, m)
    user = make_user("silva")
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    active_card(beijing, person)
    return user


def bank() -> services.BankDetails:
    return services.BankDetails(**BANK)


def test_the_shipped_file_loads() -> None:
    shipped = programmes.load()
    assert shipped and all(p.amount > 0 and p.name_zh for p in shipped.values())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('amount_fen = "800.00"', "amount_fen"),
        ('regions = ["Beijing"]', "regions"),
        ('status = "SURE"', "status"),
        ('effective_to = "2019-01-01"', "effective_to"),
    ],
)
def test_a_broken_file_says_what_is_wrong(tmp_path: Path, text: str, problem: str) -> None:
    key = text.split(" = ")[0]
    good = PROGRAMMES.split("[[programmes]]")[1]
    lines = [line for line in good.strip().splitlines() if not line.startswith(key + " ")]
    path = tmp_path / "bad.toml"
    path.write_text("[[programmes]]\n" + "\n".join([*lines, text]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        programmes.load(path)


def test_who_qualifies_and_why_not(holder: Any) -> None:
    person = holder.person
    found = {f.programme.code: f for f in programmes.my_programmes(person, date(2026, 1, 15))}
    assert found["newcomer"].eligible and found["newcomer"].months == 3
    assert [(r.code, r.params) for r in found["veteran"].reasons] == [
        ("programme_months", {"have": 3, "need": 12, "missing": 9})
    ]
    assert [r.code for r in found["shanghai_only"].reasons] == ["programme_region"]
    assert [r.code for r in found["closed"].reasons] == ["programme_closed"]


def test_apply_review_pay_and_reconcile(holder: Any, django_capture_on_commit_callbacks) -> None:
    actor = actor_for_user(holder)
    app = programmes.programme_apply(actor=actor, programme="newcomer", bank_details=bank())
    assert (app.amount, app.months_counted, app.region_code, app.status) == (
        80000,
        3,
        "110000",
        "submitted",
    )
    with pytest.raises(Conflict):  # once per person and programme
        programmes.programme_apply(actor=actor, programme="newcomer", bank_details=bank())
    with pytest.raises(RuleError) as short:
        programmes.programme_apply(actor=actor, programme="veteran", bank_details=bank())
    assert short.value.code == "programme_months"
    officer = actor_for_user(make_agency("officer-bp", regions="110000"))
    shanghai = actor_for_user(make_agency("officer-sh", regions="310000"))
    with pytest.raises(NotFound):  # another region's: not found
        programmes.programme_decide(
            actor=shanghai, programme_application_id=app.pk, decision="approve"
        )
    with pytest.raises(Forbidden):
        programmes.programme_decide(
            actor=actor, programme_application_id=app.pk, decision="approve"
        )
    with django_capture_on_commit_callbacks(execute=True):
        programmes.programme_decide(
            actor=officer, programme_application_id=app.pk, decision="approve"
        )
    payout = Payout.objects.get(programme_application=app)
    assert (payout.kind, payout.amount, payout.status, payout.end_to_end_id) == (
        "subsidy",
        80000,
        "pending",
        f"BP{app.pk:010d}N001",
    )
    run = services.payment_run(actor=officer, region_code="110000")
    assert run is not None and (run.count, run.total) == (1, 80000)
    pain001.schema().validate(run.xml)
    assert "<CtrlSum>800.00</CtrlSum>" in run.xml and "PT50000201231234567890154" in run.xml
    with django_capture_on_commit_callbacks(execute=True):
        report = services.payments_reconcile(
            actor=officer,
            text=f"end_to_end_id,status,date\n{payout.end_to_end_id},ACSC,2026-01-20\n",
        )
    assert report.paid == 1
    app.refresh_from_db()
    assert app.status == "paid"
    kinds = list(
        Notification.objects.filter(user=holder).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["programme_approved", "programme_paid"]
    assert AuditEvent.objects.filter(action="programme.approve", object_id=str(app.pk)).exists()


def test_a_rejection_needs_a_reason_and_lets_them_apply_again(holder: Any) -> None:
    actor = actor_for_user(holder)
    app = programmes.programme_apply(actor=actor, programme="newcomer", bank_details=bank())
    officer = actor_for_user(make_agency("officer-bp", regions="110000"))
    with pytest.raises(RuleError) as err:
        programmes.programme_decide(
            actor=officer, programme_application_id=app.pk, decision="reject"
        )
    assert err.value.field == "reason"
    programmes.programme_decide(
        actor=officer, programme_application_id=app.pk, decision="reject", reason="no course"
    )
    with pytest.raises(Conflict):
        programmes.programme_decide(
            actor=officer, programme_application_id=app.pk, decision="approve"
        )
    again = programmes.programme_apply(actor=actor, programme="newcomer", bank_details=bank())
    assert again.status == "submitted" and not Payout.objects.exists()


@pytest.mark.parametrize(
    ("prefix", "title", "why_not", "sent", "amount"),
    [
        (
            "",
            "Benefit programmes",
            "this programme needs 12 (9 more)",
            "sent to the agency",
            "¥800.00",
        ),
        (
            "/zh-hans",
            "补贴项目",
            "本项目要求12个月（还差9个月）",
            "已提交经办机构审核",
            "800.00 元",
        ),
    ],
)
def test_the_holders_page_in_both_languages(
    holder: Any, prefix: str, title: str, why_not: str, sent: str, amount: str
) -> None:
    c = Client()
    c.force_login(holder)
    page = c.get(f"{prefix}/benefits/programmes/").content.decode()
    assert title in page and why_not in page and amount in page
    refused = c.post(f"{prefix}/benefits/programmes/", {**BANK, "programme": "veteran"})
    assert refused.status_code == 400  # not a choice: only programmes they qualify for
    done = c.post(f"{prefix}/benefits/programmes/", {**BANK, "programme": "newcomer"}, follow=True)
    assert sent in done.content.decode()
    app = ProgrammeApplication.objects.get()
    staff = verified_login(Client(), make_agency("officer-bp", regions="110000"))
    assert (
        holder.person.full_name
        in staff.get(f"{prefix}/benefits/programme-applications/").content.decode()
    )
    decided = staff.post(
        f"{prefix}/benefits/programme-applications/{app.pk}/decide/",
        {"decision": "approve"},
        follow=True,
    )
    assert decided.status_code == 200
    assert ProgrammeApplication.objects.get().status == "approved"


# --- API: every operation × role ---------------------------------------------------------------

ROLES = ("agency", "agency_sh", "hr", "self", "other", "anon")
PROGRAMME_CASES = [
    ("GET", "/programmes", None, (200, 200, 403, 200, 200, 401)),
    ("GET", "/programme-applications", None, (200, 200, 403, 200, 200, 401)),
    (
        "POST",
        "/programme-applications",
        {"programme": "newcomer", "bank": BANK},
        (403, 403, 403, 201, 400, 401),
    ),
    (
        "GET",
        "/programme-applications/{programme_application_id}",
        None,
        (200, 404, 403, 200, 404, 401),
    ),
    (
        "POST",
        "/programme-applications/{programme_application_id}/decision",
        {"decision": "reject", "reason": "no course"},
        (200, 404, 403, 403, 404, 401),
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expect"),
    PROGRAMME_CASES,
    ids=[f"{m} {p}" for m, p, _b, _e in PROGRAMME_CASES],
)
def test_role_matrix(
    holder: Any,
    beijing: Employer,  # noqa: F811 - the fixture imported above
    method: str,
    path: str,
    body: Any,
    expect: tuple[int, ...],
) -> None:
    from tests.portal.factories import make_hr

    other = make_user("other-person")
    stranger = make_person("Stranger", "JPN")
    Person.objects.filter(pk=stranger.pk).update(user=other)
    clients = {
        "agency": verified_login(Client(), make_agency("officer-bp", regions="110000")),
        "agency_sh": verified_login(Client(), make_agency("officer-sh", regions="310000")),
        "hr": Client(),
        "self": Client(),
        "other": Client(),
        "anon": Client(),
    }
    clients["hr"].force_login(make_hr(beijing, "hr-bp"))
    clients["self"].force_login(holder)
    clients["other"].force_login(other)
    for role, status in zip(ROLES, expect, strict=True):
        ProgrammeApplication.objects.all().delete()
        app = programmes.programme_apply(
            actor=actor_for_user(holder), programme="newcomer", bank_details=bank()
        )
        if role == "self" and method == "POST" and path == "/programme-applications":
            app.delete()
        url = API + path.format(programme_application_id=app.pk)
        c = clients[role]
        response = (
            c.get(url) if method == "GET" else c.post(url, body, content_type="application/json")
        )
        assert response.status_code == status, (role, response.content)
        if status >= 400:
            assert {"code", "message", "field"} <= set(response.json())


def test_the_review_queue_pages_filters_and_names_the_programme(holder: Any) -> None:
    """The queue names the programme by its title in the reader's language (it showed the code),
    and is searched, filtered by programme and exported like every list."""
    from django.test import Client

    from tests.twofactor import verified_login

    programmes.programme_apply(
        actor=actor_for_user(holder), programme="newcomer", bank_details=bank()
    )
    staff = verified_login(Client(), make_agency("officer-bp", regions="110000"))
    page = staff.get("/benefits/programme-applications/").content.decode()
    row = page.split('id="programme-queue"', 1)[1].split("</table>", 1)[0]
    assert "Newcomer allowance" in row and ">newcomer<" not in row
    assert (
        "新来华人员补助" in staff.get("/zh-hans/benefits/programme-applications/").content.decode()
    )
    found = staff.get("/benefits/programme-applications/?q=Sil").content.decode()
    assert "programme-application-" in found
    other = staff.get("/benefits/programme-applications/?programme=veteran").content.decode()
    assert "No application matches." in other and "programme-application-" not in other
    sent = staff.get("/benefits/programme-applications/?export=csv")
    text = b"".join(sent.streaming_content).decode("utf-8-sig")
    assert "newcomer" in text.splitlines()[1] and "Silva" in text.splitlines()[1]
