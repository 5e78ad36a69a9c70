"""On "My contributions" the foreign employee may dispute each month's bill from an employer: a
"Dispute this" link takes them to the dispute form with the bill and both parties filled in. The
link is there only for what the reader may dispute: their own lines (issue #12)."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.test import Client, RequestFactory

from expatsi.employers.models import Employer
from expatsi.people.models import Person
from tests.cases.conftest import bill, employ, person
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(sh: Employer, sh2: Employer) -> dict[str, Any]:
    users = {
        name: get_user_model().objects.create_user(username=name) for name in ("keller", "okafor")
    }
    keller, okafor = person("Keller", "DEU"), person("Okafor", "NGA")
    Person.objects.filter(pk=keller.pk).update(user=users["keller"])
    Person.objects.filter(pk=okafor.pk).update(user=users["okafor"])
    employ(keller, sh, date(2025, 1, 1))
    employ(okafor, sh, date(2025, 1, 1))
    employ(keller, sh2, date(2025, 1, 1))
    september = bill(
        sh,
        "2025-09",
        date(2025, 10, 15),
        lines=[
            {"person": keller, "employer_amount": 480_000, "employee_amount": 240_000},
            {"person": okafor, "employer_amount": 300_000, "employee_amount": 150_000},
        ],
    )
    # October at the second employer: an adjustment posted before the regular bill is read
    # (lines are read by bill id): the month's subject is still the regular bill.
    adjustment = bill(
        sh2,
        "2025-10",
        date(2025, 11, 15),
        kind="adjustment",
        lines=[{"person": keller, "employer_amount": 1_000, "employee_amount": 500}],
    )
    october = bill(
        sh2,
        "2025-10",
        date(2025, 11, 15),
        lines=[{"person": keller, "employer_amount": 480_000, "employee_amount": 240_000}],
    )
    return {
        "users": users,
        "sh": sh,
        "sh2": sh2,
        "keller": keller,
        "okafor": okafor,
        "september": september,
        "october": october,
        "adjustment": adjustment,
    }


def links(page: str) -> list[str]:
    return [
        html.unescape(href)
        for href in re.findall(r'href="(/cases/disputes/new/\?[^"]*)" class="dispute-month"', page)
    ]


def _form(bill_id: int, employer: Employer, p: Person) -> str:
    return (
        f"/cases/disputes/new/?subject_kind=bill&subject_id={bill_id}"
        f"&employer={employer.pk}&person={p.pk}"
    )


def test_each_month_of_my_contributions_links_to_a_dispute_about_its_bill(
    w: dict[str, Any],
) -> None:
    me = verified_login(Client(), w["users"]["keller"])
    page = me.get("/billing/me/").content.decode()
    assert links(page) == [  # newest first, like the table
        _form(w["october"].pk, w["sh2"], w["keller"]),
        _form(w["september"].pk, w["sh"], w["keller"]),
    ]
    assert page.count(">Dispute this</a>") == 2
    chinese = me.get("/zh-hans/billing/me/").content.decode()
    assert chinese.count(">对此提出争议</a>") == 2

    form = me.get(_form(w["september"].pk, w["sh"], w["keller"])).content.decode()
    assert re.search(r'<input type="radio" name="subject_kind" value="bill"[^>]*checked', form)
    assert re.search(rf'name="subject_id"[^>]*value="{w["september"].pk}"', form) or re.search(
        rf'value="{w["september"].pk}"[^>]*name="subject_id"', form
    )
    assert re.search(
        rf'<select name="employer"[^>]*>.*?<option value="{w["sh"].pk}" selected>', form, re.S
    )
    # The link leads to a dispute that can be opened as filled in.
    sent = me.post(
        _form(w["september"].pk, w["sh"], w["keller"]),
        {
            "employer": w["sh"].pk,
            "person": w["keller"].pk,
            "subject_kind": "bill",
            "subject_id": w["september"].pk,
            "claim": "My base for September is too high.",
            "stage": "mediation",
        },
    )
    assert sent.status_code == 302


def test_no_link_for_another_persons_lines(w: dict[str, Any]) -> None:
    """Okafor's page links to his own month only; the tag gives Keller no link to Okafor's."""
    okafor = verified_login(Client(), w["users"]["okafor"])
    page = okafor.get("/billing/me/").content.decode()
    assert links(page) == [_form(w["september"].pk, w["sh"], w["okafor"])]
    request = RequestFactory().get("/billing/me/")
    request.user = w["users"]["keller"]
    template = Template(
        '{% load dispute_links %}{% dispute_url "bill" bill employer person as url %}[{{ url }}]'
    )
    own = template.render(
        Context(
            {
                "request": request,
                "bill": w["september"].pk,
                "employer": w["sh"].pk,
                "person": w["keller"].pk,
            }
        )
    )
    other = template.render(
        Context(
            {
                "request": request,
                "bill": w["september"].pk,
                "employer": w["sh"].pk,
                "person": w["okafor"].pk,
            }
        )
    )
    assert own != "[]" and other == "[]"
