"""Everything the load benchmark's requests need, made in the database the app server will serve:
an HR user and an API token of one employer, the employer's employee signed in, an agency officer
signed in with the second step done, and a card code signed with the served keys. Prints one JSON
line. Run by bench/load.py in a fresh process with the server's environment (DATABASE_URL,
EXPATSI_VAR_DIR, …); when the database has no employees yet, makes ``--people`` of them first and
bills one month (bench/billing.py's generator), so it also runs on its own.

    DATABASE_URL=postgresql://… python bench/load_setup.py --people 20000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expatsi.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from expatsi.access.actors import SYSTEM  # noqa: E402
from expatsi.access.models import AgencyStaff  # noqa: E402
from expatsi.billing.models import Bill  # noqa: E402
from expatsi.billing.services import billing_run  # noqa: E402
from expatsi.cards import keys  # noqa: E402
from expatsi.credentials import token  # noqa: E402
from expatsi.employers.models import Employer, HrMembership  # noqa: E402
from expatsi.employers.services import api_token_create  # noqa: E402
from expatsi.people.models import Person  # noqa: E402
from expatsi.rules.dates import Month  # noqa: E402

MONTH = Month(2025, 8)


def session(user: object, *, second_step: bool = False) -> str:
    """A signed-in session, stored where the server reads sessions (the database)."""
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    if second_step:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"confirmed": True}
        )
        store = client.session
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
        store.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production mode needs them
    if not Person.objects.exists():
        import billing  # bench/billing.py: the same generator as the billing benchmark

        billing.generate(args.people)
    if not Bill.objects.filter(month=str(MONTH)).exists():
        billing_run(actor=SYSTEM, region_code="110000", month=MONTH)
    employer = Employer.objects.order_by("pk").first()
    assert employer is not None
    person = Person.objects.filter(employments__employer=employer).order_by("pk").first()
    bill = Bill.objects.filter(employer=employer, month=str(MONTH)).order_by("pk").first()
    assert person is not None
    assert bill is not None
    users = get_user_model().objects
    hr, _ = users.get_or_create(username="bench-hr")
    HrMembership.objects.get_or_create(user=hr, employer=employer)
    officer, _ = users.get_or_create(username="bench-officer")
    AgencyStaff.objects.get_or_create(user=officer, defaults={"regions": "110000"})
    holder, _ = users.get_or_create(username="bench-holder")
    Person.objects.filter(pk=person.pk).update(user=holder)
    _, secret = api_token_create(actor=SYSTEM, employer_id=employer.pk, name="load benchmark")
    claims = token.CardClaims(
        "1101202500001234",
        "110000202500012345",
        "911276198005170018",
        f"{person.family_name}, {person.given_names}",
        person.nationality,
        "A",
        employer.name,
        date(2025, 1, 10),
        date(2099, 1, 9),
        "ab" * 16,
    )
    code, _ = token.issue(claims, keys.keys_init().current)  # as `expatsi card keys init`
    print(
        json.dumps(
            {
                "employer_id": employer.pk,
                "person_id": person.pk,
                "bill_id": bill.pk,
                "api_token": secret,
                "qr": code,
                "cookie": settings.SESSION_COOKIE_NAME,
                "hr_session": session(hr),
                "holder_session": session(holder),
                "agency_session": session(officer, second_step=True),
            }
        )
    )


if __name__ == "__main__":
    main()
