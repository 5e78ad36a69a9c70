"""The portal in a real browser: HR registers a hire, imports a file, and reads it all in Chinese."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from expatsi.insurance.imports import template_csv
from expatsi.insurance.models import Registration
from expatsi.people.services import PersonData
from tests.browser.conftest import login, shot
from tests.factories import card_for, card_on_file, example_card_on_file
from tests.portal.factories import (
    PASSWORD,
    hire_data,
    make_agency,
    make_employee,
    make_employer,
    make_hire,
    make_hr,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hr_setup():
    employer = make_employer()
    hr = make_hr(employer)
    return employer, hr


def _hire_on_card(employer, hr, n: int, **over):
    """A hire on the person's card, put on file first (a hire records the card on file)."""
    card_on_file(employer, hire_data(n, **over))
    return make_hire(employer, hr, n, **over)


def test_hr_registers_a_hire_and_sees_its_deadline(page, live_server, hr_setup):
    employer, hr = hr_setup
    _hire_on_card(
        employer,
        hr,
        1,
        family="Tanaka",
        nationality="JPN",
        issued=date.today() - timedelta(days=40),
    )
    _hire_on_card(
        employer, hr, 2, family="Smith", nationality="GBR", issued=date.today() - timedelta(days=26)
    )
    login(page, live_server.url, "hr", PASSWORD)
    assert "Employees and registration deadlines" in page.content()
    shot(page, "hr-home-en")
    page.get_by_role("link", name="Register a new hire").first.click()
    page.wait_for_selector("#id_family_name")
    # An error first: it is shown next to its field and in the summary, and focus moves to the summary.
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.locator("#id_family_name_error").is_visible()
    assert page.get_attribute("#id_family_name", "aria-invalid") == "true"
    shot(page, "hire-form-errors-en")
    issued = date.today() - timedelta(days=4)
    page.fill("#id_family_name", "Okafor")
    page.fill("#id_given_names", "Chidi")
    page.select_option("#id_sex", "male")
    page.fill("#id_birth_date", "1988-02-29")
    page.select_option("#id_nationality", "NGA")
    page.fill("#id_passport_number", "A07654321")
    # The form names the card on file; its dates are the card's (issued four days ago).
    okafor = PersonData(
        family_name="Okafor",
        given_names="Chidi",
        sex="male",
        birth_date=date(1988, 2, 29),
        nationality="NGA",
        passport_number="A07654321",
    )
    card_for(employer, okafor, "IC1100202609999", issued=issued)
    page.fill("#id_permit_number", "IC1100202609999")
    # Order No. 16 Art. 2: registration needs a residence permit valid when employment starts.
    page.fill("#id_residence_permit_number", "E20260001")
    page.fill("#id_residence_permit_issued_on", issued.isoformat())
    page.fill("#id_residence_permit_valid_to", (issued + timedelta(days=730)).isoformat())
    page.fill("#id_start_date", issued.isoformat())
    page.fill("#id_position", "Data analyst")
    page.fill("#id_monthly_wage", "31200.50")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#deadline")
    due = issued + timedelta(days=30)
    text = page.inner_text("#deadline")
    assert str(due.year) in text and str(due.day) in text
    assert "On time: 26 days left" in page.inner_text(".deadline-panel")
    assert Registration.objects.filter(person__family_name="Okafor", deadline=due).exists()
    shot(page, "registration-en")


def test_hr_bulk_import_dry_run_then_import(page, live_server, hr_setup):
    employer, _hr = hr_setup
    example_card_on_file(employer)  # the cards the two rows name
    schmidt = PersonData(
        family_name="Schmidt",
        given_names="Anna Maria",
        sex="female",
        birth_date=date(1990, 4, 12),
        nationality="DEU",
        passport_number="X98765432",
    )
    card_for(employer, schmidt, "11260000001235", issued=date(2026, 11, 2))
    login(page, live_server.url, "hr", PASSWORD)
    page.goto(f"{live_server.url}/hires/import/")
    shot(page, "import-en")
    good = template_csv()
    lines = good.splitlines()
    second = (
        lines[1]
        .replace("C01X00T47", "X98765432")
        .replace("11260000001234", "11260000001235")
        .replace("E12345678", "E87654321")
        .replace("MÜLLER", "Schmidt")
    )
    bad = "\r\n".join(
        [lines[0], lines[1].replace("DEU", "XXX"), second.replace("1990-04-12", "12.04.1990")]
    )
    page.set_input_files(
        "#id_file", files=[{"name": "hires.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_selector("#row-errors")
    errors = page.inner_text("#row-errors")
    assert "nationality" in errors and "birth_date" in errors
    assert "The file has 2 errors. Nothing has been saved." in page.content()
    assert Registration.objects.count() == 0
    shot(page, "import-dry-run-errors-en")
    fixed = "\r\n".join([lines[0], lines[1], second])
    page.set_input_files(
        "#id_file", files=[{"name": "hires.csv", "mimeType": "text/csv", "buffer": fixed.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_selector("#dry-run-ok")
    assert Registration.objects.count() == 0
    shot(page, "import-dry-run-ok-en")
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_selector("#import-done")
    assert "Imported: 2 new hires registered." in page.inner_text("#import-done")
    assert Registration.objects.filter(employer=employer).count() == 2
    shot(page, "import-done-en")


def test_switching_to_chinese_shows_chinese_text(page, live_server, hr_setup):
    employer, hr = hr_setup
    make_hire(
        employer,
        hr,
        1,
        family="Tanaka",
        nationality="JPN",
        issued=date.today() - timedelta(days=40),
    )
    login(page, live_server.url, "hr", PASSWORD)
    page.select_option("#lang-select", "zh-hans")
    page.locator("form.lang button").click()
    page.wait_for_url("**/zh-hans/**")
    body = page.inner_text("body")
    assert "登记新入职人员" in body
    assert "逾期" in body
    assert "Register a new hire" not in body
    assert page.get_attribute("html", "lang") == "zh-Hans"
    shot(page, "hr-home-zh")
    page.goto(f"{live_server.url}/zh-hans/hires/new/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    assert "此项为必填项" in page.inner_text(".error-summary") or "必填" in page.inner_text(
        ".error-summary"
    )
    shot(page, "hire-form-errors-zh")
    page.goto(f"{live_server.url}/zh-hans/hires/import/")
    assert "批量导入" in page.inner_text("main")
    shot(page, "import-zh")


def test_agency_and_employee_pages_in_both_languages(page, live_server, hr_setup):
    employer, hr = hr_setup
    late = make_hire(
        employer,
        hr,
        1,
        family="Tanaka",
        nationality="JPN",
        issued=date.today() - timedelta(days=40),
    )
    make_hire(
        employer, hr, 2, family="Smith", nationality="GBR", issued=date.today() - timedelta(days=26)
    )
    make_employee(late)
    make_agency()
    login(page, live_server.url, "officer", PASSWORD)
    assert "Agency workspace" in page.inner_text("h1")
    shot(page, "agency-home-en")
    page.goto(f"{live_server.url}/?q=Tanaka")
    page.get_by_role("link", name="TANAKA Anna").first.click()
    page.wait_for_selector("#docs-heading")
    shot(page, "person-en")
    page.goto(f"{live_server.url}/registrations/{late.pk}/")
    page.get_by_role("button", name="Accept and assign a social security number").click()
    page.wait_for_selector(".notice-success")
    shot(page, "registration-accepted-en")
    page.goto(f"{live_server.url}/zh-hans/?q=Smith")
    assert "机构工作台" in page.inner_text("h1")
    shot(page, "agency-home-zh")
    page.goto(f"{live_server.url}/zh-hans/registrations/{late.pk}/")
    shot(page, "registration-zh")
    page.locator(".nav-user form button[type=submit]").click()  # sign out
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/zh-hans/login/")
    assert "登录" in page.inner_text("h1")
    shot(page, "login-zh")
    login(page, live_server.url, "employee", PASSWORD)
    page.wait_for_selector(".ssn")
    shot(page, "employee-en")
    page.goto(f"{live_server.url}/zh-hans/me/")
    assert "社会保障号码" in page.inner_text("main")
    shot(page, "employee-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/zh-hans/me/")
    shot(page, "employee-zh-mobile")


def test_hr_imports_a_gb18030_csv_saved_by_excel_on_chinese_windows(page, live_server, hr_setup):
    """Excel on Chinese Windows saves CSV in GBK/GB18030, not UTF-8: the file is read as such
    (charset detection), its Chinese position arrives intact, in the Chinese portal."""
    employer, _hr = hr_setup
    example_card_on_file(employer)  # the card the row names
    lines = template_csv().splitlines()
    row = lines[1].replace("Process engineer", "工艺工程师")
    data = "\r\n".join([lines[0], row]).encode("gb18030")
    try:
        data.decode("utf-8")
        raise AssertionError("the file must not be valid UTF-8")
    except UnicodeDecodeError:
        pass
    login(page, live_server.url, "hr", PASSWORD)
    page.goto(f"{live_server.url}/zh-hans/hires/import/")
    page.set_input_files(
        "#id_file", files=[{"name": "员工.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    page.wait_for_selector("#dry-run-ok")
    assert page.locator("#row-errors").count() == 0
    page.locator("form.actions button[type=submit]").click()
    page.wait_for_selector("#import-done")
    reg = Registration.objects.get(employer=employer)
    assert reg.employment.position == "工艺工程师"
    shot(page, "import-gb18030-zh")
