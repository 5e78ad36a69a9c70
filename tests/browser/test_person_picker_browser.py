"""The card application form's person picker in a real browser, in English and in Chinese: HR of
an employer with more staff than a list can show type part of a name, read how many match, move
through the matches with the arrow keys, take one with Enter and send the application; Escape
closes the list. Without a script the same form finds, chooses and sends (tests/cards/test_picker.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.cache import cache

from expatsi.access import crypto
from expatsi.cards import keys
from expatsi.cards.models import CardApplication
from tests.browser.conftest import csp_violations, login, shot
from tests.cards.helpers import today
from tests.factories import EmploymentFactory
from tests.portal.factories import PASSWORD, make_employer, make_hr

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


@pytest.mark.parametrize(
    ("prefix", "locale", "matches"),
    [("", "en-US", "2 matches."), ("/zh-hans", "zh-CN", "2 个匹配。")],
)
def test_type_part_of_a_name_pick_with_the_keyboard_and_send(
    browser, live_server, tmp_path, prefix: str, locale: str, matches: str
) -> None:
    employer = make_employer()
    make_hr(employer, "hr")
    for i in range(30):  # more than a list shows at once
        EmploymentFactory(employer=employer, person__family_name=f"Adams{i:02d}")
    wanted = [
        EmploymentFactory(
            employer=employer, person__family_name=name, person__given_names=given
        ).person
        for name, given in (("Okafor", "Chidi"), ("Okonkwo", "Ada"), ("Okoye", "Ngozi"))
    ]
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(PDF)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = csp_violations(page)
    login(page, base, "hr", PASSWORD)
    page.goto(f"{base}{prefix}/cards/apply/")

    box = page.locator("#id_person_q")
    # enhanced: a combobox; the select and the "Find" button are the no-script path
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    assert page.locator("#id_person").is_hidden()
    assert page.locator("[data-picker=person] [data-picker-find]").count() == 0
    box.focus()
    box.press_sequentially("oko", delay=60)
    page.wait_for_selector("#id_person_listbox [role=option]")
    assert box.get_attribute("aria-expanded") == "true"
    assert page.inner_text("#id_person_status").strip() == matches  # the live region
    options = page.locator("#id_person_listbox [role=option]")
    assert options.count() == 2  # Okonkwo, Okoye — not Okafor
    # arrows move (and wrap), Escape closes, Enter takes the active one
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == f"person-option-{wanted[1].pk}"
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # past the last: back to the first
    assert box.get_attribute("aria-activedescendant") == f"person-option-{wanted[1].pk}"
    page.keyboard.press("ArrowUp")
    assert box.get_attribute("aria-activedescendant") == f"person-option-{wanted[2].pk}"
    shot(page, f"person-picker-open{prefix.replace('/', '-')}")
    page.keyboard.press("Enter")
    assert box.get_attribute("aria-expanded") == "false"
    assert page.input_value("#id_person") == str(wanted[2].pk)
    assert box.input_value() == "OKOYE Ngozi"
    assert not CardApplication.objects.exists()  # Enter chose; it did not send the form

    page.select_option("#id_category", "B")
    page.fill("#id_position", "Process engineer")
    page.fill("#id_valid_to", (today() + timedelta(days=700)).isoformat())
    page.set_input_files("#id_passport_scan", str(contract))
    page.set_input_files("#id_labour_contract", str(contract))
    with page.expect_navigation():
        page.locator("#application-form button[type=submit]").click()
    page.wait_for_selector("#documents")
    app = CardApplication.objects.get()
    assert app.card.person_id == wanted[2].pk and app.card.employer_id == employer.pk
    context.close()
    assert violations == [], "the page broke the Content-Security-Policy"
