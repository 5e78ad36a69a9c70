"""A first Integrated Card application in a real browser, in English and in Chinese: the employer's
HR fill in the form and upload the documents (a missing one is marked on its field), agency staff
open the application from their queue, download a document and approve it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from PIL import Image

from expatsi.access import crypto
from expatsi.access.actors import SYSTEM
from expatsi.audit.models import AuditEvent
from expatsi.cards import keys
from expatsi.cards.models import CardApplication
from expatsi.employers.models import Employer
from expatsi.insurance.services import employment_start
from expatsi.people.models import Person
from expatsi.people.services import person_find_or_create
from tests.browser.conftest import login, shot
from tests.cards.helpers import today
from tests.portal.factories import PASSWORD, hire_data, make_agency, make_employer, make_hr


def new_to_china(employer: Employer) -> Person:
    """A person the employer has taken on who holds no card yet: the one a first application is
    for (a hire names the card on file, so this person is on file through the employment)."""
    data = hire_data(1)
    person, _ = person_find_or_create(actor=SYSTEM, data=data.person)
    employment_start(
        actor=SYSTEM,
        person=person,
        employer=employer,
        start_date=data.start_date,
        position=data.position,
        contract_wage=data.contract_wage,
    )
    return person


pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def card_keys(tmp_path, settings) -> Iterator[None]:
    settings.EXPATSI_KEY_DIR = tmp_path / "keys"
    keys.reset_caches()
    keys.keys_init()
    crypto.keys_init()
    cache.clear()
    yield
    keys.reset_caches()


def _page(browser: Any, base: str, username: str, locale: str) -> Any:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale=locale, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, base, username, PASSWORD)
    return page


@pytest.mark.parametrize(
    ("prefix", "locale", "approved"),
    [("", "en-US", "Approved"), ("/zh-hans", "zh-CN", "已批准")],
)
def test_first_application_with_documents_to_approval(
    browser, live_server, tmp_path, prefix: str, locale: str, approved: str
) -> None:
    employer = make_employer()
    make_hr(employer, "hr")
    make_agency("officer")
    person = new_to_china(employer)
    base = live_server.url
    scan = tmp_path / "passport.png"
    Image.new("RGB", (300, 200), (20, 60, 160)).save(scan, format="PNG")
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(PDF)
    fake = tmp_path / "degree.pdf"
    fake.write_bytes(b"<html>this is not a PDF</html>")

    hr = _page(browser, base, "hr", locale)
    hr.goto(f"{base}{prefix}/cards/")
    hr.click("#apply-link")
    hr.wait_for_selector("#application-form")
    # the person picker: type the start of the name, take the match with the keyboard
    hr.locator("#id_person_q").press_sequentially(person.family_name[:3], delay=40)
    hr.wait_for_selector(f"#person-option-{person.pk}")
    hr.keyboard.press("ArrowDown")
    hr.keyboard.press("Enter")
    assert hr.input_value("#id_person") == str(person.pk)
    hr.select_option("#id_category", "B")
    hr.fill("#id_position", "Process engineer")
    hr.fill("#id_valid_to", (today() + timedelta(days=700)).isoformat())
    hr.set_input_files("#id_labour_contract", str(contract))
    hr.set_input_files("#id_degree", str(fake))
    hr.locator("#application-form button[type=submit]").click()
    # the missing passport scan and the file that is not what its name says: on their fields
    hr.wait_for_selector("#id_passport_scan_error")
    assert hr.locator("#id_degree_error").count() == 1
    assert hr.get_attribute("#id_passport_scan", "aria-invalid") == "true"
    shot(hr, f"card-application-errors{prefix.replace('/', '-')}")
    assert not CardApplication.objects.exists()
    # files are not kept by a browser across a failed submission: choose them again
    hr.set_input_files("#id_passport_scan", str(scan))
    hr.set_input_files("#id_labour_contract", str(contract))
    hr.set_input_files("#id_degree", [])
    hr.locator("#application-form button[type=submit]").click()
    hr.wait_for_selector("#documents")
    assert hr.locator("#documents tbody tr").count() == 2
    shot(hr, f"card-application-filed{prefix.replace('/', '-')}")
    app = CardApplication.objects.get(card__person=person)
    hr.context.close()

    officer = _page(browser, base, "officer", locale)
    officer.goto(f"{base}{prefix}/cards/queue/")
    officer.locator(f"#application-{app.pk} a[href*='/applications/']").click()
    officer.wait_for_selector("#documents")
    with officer.expect_download() as info:
        officer.locator("#documents tr[data-kind='labour_contract'] a").click()
    path = tmp_path / "downloaded.pdf"
    info.value.save_as(path)
    assert path.read_bytes() == PDF
    assert AuditEvent.objects.filter(action="card.document_read").count() == 1
    shot(officer, f"card-application-review{prefix.replace('/', '-')}")
    officer.locator("#decision button[value=approve]").click()
    officer.wait_for_selector(".notice-success")
    assert approved in officer.inner_text("#application-status")
    assert officer.locator("#permit-number").count() == 1
    officer.context.close()
    app.refresh_from_db()
    assert app.status == "approved" and app.card.status == "notice_issued"
