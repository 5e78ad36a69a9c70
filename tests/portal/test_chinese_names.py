"""Chinese pages in Chinese: an employer's Chinese name where one is stored, inbox messages in the
reader's language, no English detail column in the Chinese import error report."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from expatsi.employers.display import display_name
from expatsi.employers.models import Employer
from expatsi.notify.services import notify_user
from tests.insurance.test_imports import row
from tests.portal.factories import make_agency, make_employer, make_hire, make_hr
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db

EN = "Rhine Precision (Beijing) Co., Ltd."
ZH = "莱茵精密（北京）有限公司"


@pytest.fixture
def employer() -> Employer:
    employer = make_employer(1, name=EN)
    Employer.objects.filter(pk=employer.pk).update(name_zh=ZH)
    employer.refresh_from_db()
    return employer


def _client(user: Any) -> Client:
    return verified_login(Client(), user)


def test_display_name_follows_the_language(employer: Employer) -> None:
    assert display_name(employer, "zh-hans") == ZH
    assert display_name(employer, "en") == EN
    Employer.objects.filter(pk=employer.pk).update(name_zh="")
    employer.refresh_from_db()
    assert display_name(employer, "zh-hans") == EN  # no Chinese name stored


def test_agency_pages_show_the_chinese_name(employer: Employer) -> None:
    hr = make_hr(employer)
    reg = make_hire(employer, hr)
    agency = _client(make_agency())
    for url in ("/zh-hans/registrations/", f"/zh-hans/registrations/{reg.pk}/"):
        body = agency.get(url).content.decode()
        assert ZH in body, url
        assert EN not in body, url
    assert EN in agency.get(f"/registrations/{reg.pk}/").content.decode()
    home = agency.get("/zh-hans/", {"q": "Rhine"}).content.decode()
    assert home.index(ZH) < home.index(EN)  # the Chinese name first, the registered one beside


def test_hr_dropdown_lists_chinese_names(employer: Employer) -> None:
    other = make_employer(2, name="Second Ltd.")
    Employer.objects.filter(pk=other.pk).update(name_zh="第二有限公司")
    hr = make_hr(employer)
    from expatsi.employers.models import HrMembership

    HrMembership.objects.create(user=hr, employer=other)
    body = _client(hr).get("/zh-hans/hires/new/").content.decode()
    assert ZH in body and "第二有限公司" in body
    assert EN not in body


def test_inbox_messages_in_the_readers_language() -> None:
    user = make_hr(make_employer(1), "hr-inbox")
    notify_user(
        user=user,
        kind="registration_due_soon",
        params={"person": "MÜLLER Anna", "deadline": "2026-06-20"},
        language="en",
    )
    client = _client(user)
    zh = client.get("/zh-hans/inbox/").content.decode()
    assert "Registration due by" not in zh
    assert "MÜLLER Anna" in zh and 'lang="zh-Hans"' in zh
    en = client.get("/inbox/").content.decode()
    assert "Registration due by 2026-06-20: MÜLLER Anna" in en


def test_chinese_import_report_has_no_english_detail(employer: Employer) -> None:
    hr = make_hr(employer)
    from django.core.files.uploadedfile import SimpleUploadedFile

    values = row(1, birth_date="1992-02-30")
    data = (",".join(values) + "\n" + ",".join(values.values()) + "\n").encode("gbk")
    upload = SimpleUploadedFile("hires.csv", data, content_type="text/csv")
    body = (
        _client(hr)
        .post("/zh-hans/hires/import/", {"employer": employer.pk, "file": upload})
        .content.decode()
    )
    assert "row-errors" in body
    assert "there is no 30 February 1992" not in body
    assert "1992年二月没有30日" in body
