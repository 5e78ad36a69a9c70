"""Agency staff who may review an application download its uploaded signed form: the read is
audited, the file is served as an attachment of its sniffed type and never rendered in place.
The person, other regions' staff, HR and an application signed in the portal get nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from expatsi.audit.models import AuditEvent
from expatsi.benefits import services
from expatsi.benefits.models import TerminationApplication
from tests.benefits.conftest import LEFT_ON, Departed
from tests.benefits.test_account_after_lump_sum import FRENCH
from tests.portal.factories import PASSWORD, make_agency
from tests.twofactor import verified_login

PNG = b"\x89PNG\r\n\x1a\n<script>alert(1)</script>"


def upload(d: Departed, data: bytes = PNG) -> TerminationApplication:
    case, _ = services.departure_open(actor=d.actor, person_id=d.person.pk, departure_date=LEFT_ON)
    return services.termination_apply(
        actor=d.actor,
        case_id=case.pk,
        bank_details=FRENCH,
        declaration=True,
        signed_form=data,
        closing_date=date(2025, 11, 20),
    )


@pytest.mark.parametrize(
    "url",
    ["/benefits/applications/{}/signed-form/", "/api/v1/benefits/terminations/{}/signed-form"],
)
def test_staff_download_it_safely_and_the_read_is_audited(departed: Departed, url: str) -> None:
    app = upload(departed)
    staff = verified_login(Client(), departed.officer)
    answer = staff.get(url.format(app.pk))
    assert answer.status_code == 200
    assert answer.content == PNG
    assert answer["Content-Type"] == "image/png"
    assert answer["Content-Disposition"] == (
        f'attachment; filename="termination-{app.pk}-signed-form.png"'
    )
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in answer["Cache-Control"]
    read = AuditEvent.objects.get(action="termination.form_read")
    assert (read.object_id, read.person_id) == (str(app.pk), departed.person.pk)


def test_the_application_page_links_it_for_staff_only(departed: Departed) -> None:
    app = upload(departed)
    staff = verified_login(Client(), departed.officer)
    assert (
        'id="signed-form-link"' in staff.get(f"/benefits/applications/{app.pk}/").content.decode()
    )
    person = Client()
    person.force_login(departed.user)
    assert (
        'id="signed-form-link"'
        not in person.get(f"/benefits/applications/{app.pk}/").content.decode()
    )


def test_nobody_else_gets_it(departed: Departed) -> None:
    app = upload(departed)
    person = Client()
    person.force_login(departed.user)
    assert person.get(f"/benefits/applications/{app.pk}/signed-form/").status_code == 403
    assert person.get(f"/api/v1/benefits/terminations/{app.pk}/signed-form").status_code == 404
    shanghai = verified_login(Client(), make_agency("officer-sh", regions="310000"))
    assert shanghai.get(f"/benefits/applications/{app.pk}/signed-form/").status_code == 404
    assert shanghai.get(f"/api/v1/benefits/terminations/{app.pk}/signed-form").status_code == 404
    assert not AuditEvent.objects.filter(action="termination.form_read").exists()


def test_a_portal_signature_has_no_form(departed: Departed) -> None:
    case, _ = services.departure_open(
        actor=departed.actor, person_id=departed.person.pk, departure_date=LEFT_ON
    )
    app = services.termination_apply(
        actor=departed.actor,
        case_id=case.pk,
        bank_details=FRENCH,
        declaration=True,
        password=PASSWORD,
        closing_date=date(2025, 11, 20),
    )
    staff = verified_login(Client(), departed.officer)
    assert staff.get(f"/benefits/applications/{app.pk}/signed-form/").status_code == 404
