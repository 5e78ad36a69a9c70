"""Under the strict Content-Security-Policy the pages that use JavaScript still work in a browser,
and nothing is blocked (the ``page`` fixture fails a test on any CSP violation)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import csp_violations

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_work_under_the_policy(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "expatsi API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary", has_text="/api/v1/health").first.click()
    page.get_by_text("Try it out").click()
    page.get_by_text("Execute").click()
    status = page.locator(".live-responses-table .response .response-col_status").first
    assert status.inner_text().strip() == "200"


def test_an_inline_script_is_blocked_and_reported(browser: Any, live_server: Any) -> None:
    """The policy is enforced, and ``csp_violations`` sees it: the check above can fail."""
    context = browser.new_context()
    try:
        pg = context.new_page()
        found = csp_violations(pg)
        pg.goto(f"{live_server.url}/login/")
        pg.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.ran = 1'; document.body.appendChild(s); }"
        )
        assert pg.evaluate("() => window.ran") is None
        pg.wait_for_timeout(200)
        assert found and "script-src 'self'" in found[0]
    finally:
        context.close()


def test_the_billing_job_page_polls_from_its_static_script(page: Any, live_server: Any) -> None:
    """The progress page's script moved out of the template: it must still run and poll."""
    from expatsi.access.actors import actor_for_user
    from expatsi.billing.tasks import billing_job_start
    from expatsi.rules.dates import Month
    from tests.portal.factories import PASSWORD, make_agency

    from .conftest import login

    officer = make_agency()
    key = billing_job_start(
        actor=actor_for_user(officer), kind="run", region_code="110000", month=Month(2025, 9)
    )  # queued: no worker runs in this test
    login(page, live_server.url, "officer", PASSWORD)
    with page.expect_request(lambda r: r.url.endswith(f"/{key}/status.json")):
        page.goto(f"{live_server.url}/billing/runs/jobs/{key}/")
    assert page.locator("#job-label").inner_text() == "Waiting for a worker"
    assert page.locator("#job-progress").bounding_box()["height"] >= 20  # the CSS class applies
