"""A world of two tenants for the route-isolation test, built once per module, and leak detectors.

Tenant A: an employer in Beijing (110000); tenant B: an employer in Shanghai (310000). Each has
two people (the first accepted, insured, with an active Integrated Card carrying a photo and a
certificate of coverage; the second with a registration and a card application still awaiting
the agency), a bill for ``BILL_MONTH`` made by a billing run started as a job, a payment, a base
declaration, an API token, HR and employee users with a notification each. Roles as in
tests/api/conftest.py: agency (every region), agency_sh (Shanghai only), hr_a, hr_b, token_a (an API
token of A), self (the first person of A), other (the first person of B), anon.

Every piece of a tenant's personal data that could leak is a *marker*: a string unique to that
tenant (family names, passport, e-mail and permit numbers, social security, card and bill numbers,
the employer's name and USCC, the token's name, the notification's subject). :func:`leaks` looks for
them in a response however it is encoded: HTML, JSON, CSV, XLSX (the XML inside the zip), PDF (text
from ``pdftotext``) and headers such as a download's file name.
"""

from __future__ import annotations

import functools
import html
import io
import re
import shutil
import subprocess
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponseBase
from django.test import Client
from PIL import Image

from expatsi.access.actors import SYSTEM, Actor
from expatsi.benefits.models import (
    BankAccount,
    DeathDocument,
    DeathReport,
    DepartureCase,
    Heir,
    InheritanceClaim,
    PaymentRun,
    Payout,
    Pension,
    ProgrammeApplication,
    ProofOfLife,
    TerminationApplication,
)
from expatsi.billing.declarations import declaration_set
from expatsi.billing.models import Bill, BillingJob, BillingRun, Payment
from expatsi.billing.services import billing_run, payment_record
from expatsi.cards import documents as card_documents
from expatsi.cards import services as card_services
from expatsi.cards.models import ApplicationDocument, Card, CardApplication
from expatsi.cases import complaints as case_complaints
from expatsi.cases import disputes as case_disputes
from expatsi.cases import services as case_services
from expatsi.cases.models import Case, Complaint, Dispute, DisputeDocument, Finding, Scan
from expatsi.employers.models import ApiToken, Employer
from expatsi.employers.services import api_token_create
from expatsi.insurance.models import CoverageCertificate, Employment, Registration
from expatsi.insurance.services import certificate_add, registration_accept
from expatsi.notify.models import Notification
from expatsi.people.models import Document, Person
from expatsi.people.services import person_find_or_create
from expatsi.rules.dates import Month
from tests.api.conftest import USCC_A, USCC_B, as_role, world  # noqa: F401 - the API tests' world, by name
from tests.billing.conftest import beijing, beijing_staff, shanghai  # noqa: F401 - fixtures by name
from tests.billing.web.conftest import bworld  # noqa: F401 - the billing tests' two tenants
from tests.factories import (
    AgencyStaffFactory,
    HrMembershipFactory,
    PersonDataFactory,
    RegisteredEmployerFactory,
    UserFactory,
    hire,
)
from tests.twofactor import verified_login

BILL_MONTH = Month(2025, 9)
START = date(2025, 9, 1)
PDFTOTEXT = shutil.which("pdftotext")


def today() -> date:
    from django.utils import timezone

    return timezone.localdate()


@functools.cache
def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 400), (120, 160, 200)).save(out, format="JPEG")
    return out.getvalue()


@dataclass
class Tenant:
    """One tenant's objects: what the attacker's requests name, and what must not change."""

    key: str
    region: str
    employer: Employer
    person: Person  # accepted, insured, active card with a photo, certificate of coverage
    person2: Person  # registration and card application awaiting the agency
    passport: str  # the first person's
    employment: Employment
    registration: Registration  # submitted: accepting or rejecting it would be a real write
    card: Card
    application: CardApplication  # submitted: deciding it would be a real write
    document: Document
    certificate: CoverageCertificate
    bill: Bill
    payment: Payment
    run: BillingRun
    job_key: str
    token: ApiToken  # a token of this tenant that no attacker holds
    notification: Notification
    departure: DepartureCase  # the first person's, with a termination awaiting review
    termination: TerminationApplication  # submitted: deciding it would be a real write
    payment_run: PaymentRun  # paid the second person's approved lump sum
    iban: str
    finding: Finding  # the unpaid half of the bill, found by the compliance checks
    scan: Scan  # the scan of the tenant's employer that found it
    case: Case  # an enforcement case opened from it, its order to rectify issued
    death: DeathReport  # the second person's, reported by a family member with evidence
    claim: InheritanceClaim  # the heirs' claim, awaiting the shares: deciding it is a real write
    death_document: DeathDocument  # the evidence
    dispute: Dispute  # the first person's dispute with the employer, about their bill
    dispute_document: DisputeDocument  # a document of it
    complaint: Complaint  # the first person's request that the agency intervene
    hr_user: Any
    person_user: Any
    markers: list[str] = field(default_factory=list)
    pension: Pension | None = None  # the first person's, awarded, paid abroad
    proof: ProofOfLife | None = None  # a certificate awaiting review: deciding it would be a write
    # the card application's passport scan (cards/documents.py): reading it is audited
    application_document: ApplicationDocument | None = None
    # the first person's benefit programme application, awaiting review
    programme_application: ProgrammeApplication | None = None

    @property
    def person_ids(self) -> list[int]:
        return [self.person.pk, self.person2.pk]

    @property
    def user_ids(self) -> list[int]:
        return [self.hr_user.pk, self.person_user.pk]


@dataclass
class IsoWorld:
    tenants: dict[str, Tenant]
    sessions: dict[str, str]  # role → session key
    token_secret: str  # token_a's
    users: dict[str, Any]

    def client(self, role: str) -> Client:
        if role == "token_a":
            return Client(headers={"Authorization": f"Bearer {self.token_secret}"})
        client = Client()
        if role != "anon":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]
        return client


def _person_data(employer: Employer, *, family: str, given: str, passport: str, email: str):
    return PersonDataFactory(
        family_name=family,
        given_names=given,
        sex="female",
        birth_date=date(1984, 2, 11),
        nationality="DEU" if employer.region_code == "110000" else "JPN",
        passport_number=passport,
        email=email,
    )


def _hire(
    employer: Employer,
    *,
    family: str,
    given: str,
    passport: str,
    email: str,
    permit: str,
    residence: str = "",
    start: date = START,
) -> Registration:
    """A hire naming ``permit``: the card number on file (put there by ``hire``), or ``A`` and the
    number of the person's pending card application (a hire on it starts no earlier than the
    application was filed)."""
    return hire(
        employer,
        person=_person_data(employer, family=family, given=given, passport=passport, email=email),
        permit_number=permit,
        permit_issued_on=START - timedelta(days=10),
        permit_valid_to=START + timedelta(days=3 * 365),
        residence_permit_number=residence or "R" + permit,
        residence_permit_issued_on=START - timedelta(days=8),
        residence_permit_valid_to=START + timedelta(days=3 * 365),
        start_date=start,
    )


# What makes each tenant's data recognisable: nothing else in the system contains these strings.
PEOPLE = {
    "A": (
        ("Xanthopolous", "XA1234567", "xanthopolous@tenant-a.example", "ICXA00011"),
        ("Xerxesmund", "XA7654321", "xerxesmund@tenant-a.example", "ICXA00022"),
    ),
    "B": (
        ("Yggdrasilov", "YB1234567", "yggdrasilov@tenant-b.example", "ICYB00011"),
        ("Yorvikstone", "YB7654321", "yorvikstone@tenant-b.example", "ICYB00022"),
    ),
}
EMPLOYERS = {
    "A": ("Xanadu Precision Beijing Co., Ltd.", USCC_A, "110000", "DEU"),
    "B": ("Yellowstone Trading Shanghai Co., Ltd.", USCC_B, "310000", "JPN"),
}


def _tenant(key: str, hr_user: Any, person_user: Any) -> Tenant:
    name, uscc, region, country = EMPLOYERS[key]
    employer = RegisteredEmployerFactory(name=name, uscc=uscc, region_code=region)
    HrMembershipFactory(user=hr_user, employer=employer)
    (f1, pp1, mail1, permit1), (f2, pp2, mail2, permit2) = PEOPLE[key]
    reg1 = _hire(employer, family=f1, given="Anna", passport=pp1, email=mail1, permit=permit1)
    registration_accept(actor=SYSTEM, registration_id=reg1.pk)
    person = Person.objects.get(pk=reg1.person_id)
    # The second person is hired on their pending card application (one card number, issue #10):
    # the employer applies, then names the application on the hire.
    person2, _ = person_find_or_create(
        actor=SYSTEM,
        data=_person_data(employer, family=f2, given="Kai", passport=pp2, email=mail2),
    )
    application = card_services.card_apply(
        actor=SYSTEM,
        employer=employer,
        person=person2,
        category="B",
        position="Engineer",
        valid_to=today() + timedelta(days=365),
    )
    reg2 = _hire(
        employer,
        family=f2,
        given="Kai",
        passport=pp2,
        email=mail2,
        permit=f"A{application.pk}",
        residence="R" + permit2,
        start=today(),
    )
    assert reg2.person_id == person2.pk
    Person.objects.filter(pk=person.pk).update(user=person_user)
    certificate = certificate_add(
        actor=SYSTEM,
        person=person,
        number=f"CERT{key}{key}7700",
        country=country,
        valid_from=START,
        valid_to=START + timedelta(days=5 * 365),
    )
    card = Card.objects.get(person=person)  # the card the hire named, on file
    card = card_services.card_photo_set(actor=SYSTEM, card_id=card.pk, photo=jpeg())
    application_document = card_documents.document_attach(
        actor=SYSTEM,
        application_id=application.pk,
        kind="passport_scan",
        data=b"%PDF-1.4\n%%EOF\n",
        filename="passport.pdf",
    )
    declaration_set(
        actor=SYSTEM, person=person, employer=employer, period_start=BILL_MONTH, wage=3_200_000
    )
    job = BillingJob.objects.create(  # as billing_job_start writes it, run here without a worker
        key=uuid.uuid4().hex,
        kind="run",
        region_code=region,
        month=str(BILL_MONTH),
        expected_runs=1,
        started_by=SYSTEM.label,
    )
    job_key = job.key
    run = billing_run(actor=SYSTEM, region_code=region, month=BILL_MONTH, job=job)
    bill = Bill.objects.get(employer=employer, month=str(BILL_MONTH))
    payment = payment_record(
        actor=SYSTEM,
        employer=employer,
        amount=bill.total // 2,
        received_on=START + timedelta(days=20),
        reference=bill.number,
    )
    token, _secret = api_token_create(
        actor=SYSTEM, employer_id=employer.pk, name=f"Token{key}{key}Q9"
    )
    notification = Notification.objects.create(
        user=hr_user,
        kind="isolation",
        subject=f"Notice{key}{key}Z7 for {f1}",
        body=f"About {f1}",
        language="en",
    )
    Notification.objects.create(
        user=person_user, kind="isolation", subject=f"Notice{key}{key}Z7", body="", language="en"
    )
    departure, termination, payment_run, iban = _benefits(key, region, person, person2)
    scan = case_services.compliance_scan(actor=SYSTEM, employer_id=employer.pk)
    finding = Finding.objects.get(employer=employer, rule="unpaid_past_due")
    case = case_services.case_open(actor=SYSTEM, finding_ids=[finding.pk])
    case = case_services.order_issue(
        actor=SYSTEM, case_id=case.pk, deadline=today() + timedelta(days=30)
    )
    death, claim, death_document = _death(key, region, person2)
    finding.refresh_from_db()
    card.refresh_from_db()
    person.refresh_from_db()
    dispute = case_disputes.dispute_open(
        actor=SYSTEM,
        employer_id=employer.pk,
        person_id=person.pk,
        subject_kind="bill",
        subject_id=bill.pk,
        claim=f"Claim{key}{key}D4 about the bill",
    )
    dispute_document = case_disputes.document_add(
        actor=SYSTEM, dispute_id=dispute.pk, title=f"Award{key}{key}D5", data=b"%PDF-1.4 iso"
    )
    complaint = case_complaints.complaint_file(
        actor=Actor("employee", person_user.pk, "iso", person_id=person.pk),
        kind="intervention",
        employer_id=employer.pk,
        subject=f"Complaint{key}{key}C6",
        details="Contributions unpaid",
    )
    tenant = Tenant(
        key=key,
        region=region,
        employer=employer,
        person=person,
        person2=person2,
        passport=pp1,
        employment=reg1.employment,
        registration=reg2,
        card=card,
        application=application,
        document=Document.objects.filter(person=person).order_by("pk").first(),  # type: ignore[arg-type]
        certificate=certificate,
        bill=bill,
        payment=payment,
        run=run.run,
        job_key=job_key,
        token=token,
        notification=notification,
        departure=departure,
        termination=termination,
        payment_run=payment_run,
        iban=iban,
        finding=finding,
        scan=scan,
        case=case,
        death=death,
        claim=claim,
        death_document=death_document,
        dispute=dispute,
        dispute_document=dispute_document,
        complaint=complaint,
        hr_user=hr_user,
        person_user=person_user,
        application_document=application_document,
    )
    tenant.programme_application = ProgrammeApplication.objects.create(
        person=person,
        programme="isolation",
        region_code=region,
        amount=80_000,
        months_counted=3,
        bank_account=BankAccount.objects.filter(person=person).first(),
        applied_by="system",
    )
    assert card.card_number and person.ssn, "the world needs a card number and an SSN"
    tenant.pension, tenant.proof = _pension(key, region, person)
    tenant.markers = [
        f1,
        f2,
        pp1,
        pp2,
        mail1,
        mail2,
        permit1,
        permit2,
        person.ssn,
        card.card_number,
        card.permit_number,
        bill.number,
        name,
        uscc,
        certificate.number,
        token.name,
        f"Notice{key}{key}Z7",
        iban,
        f"Holder{key}{key}K5",
        case.number,
        f"Heir{key}{key}W4",
        f"Kin{key}{key}V6",
        dispute.number,
        f"Claim{key}{key}D4",
        f"Award{key}{key}D5",
        complaint.number,
        f"Complaint{key}{key}C6",
    ]
    return tenant


IBANS = {"A": "DE89370400440532013000", "B": "FR1420041010050500013M02606"}


def _benefits(
    key: str, region: str, person: Person, person2: Person
) -> tuple[DepartureCase, TerminationApplication, PaymentRun, str]:
    """A departure with a termination awaiting review (the first person), and an approved one
    paid in a payment run (the second person), made as the services leave them."""
    iban = IBANS[key]
    bic = "COBADEFFXXX" if key == "A" else "PSSTFRPPPAR"
    country = "DEU" if key == "A" else "FRA"
    made = []
    for who, status in ((person, "submitted"), (person2, "approved")):
        case = DepartureCase.objects.create(
            person=who,
            region_code=region,
            trigger="declared",
            departure_date=START + timedelta(days=40),
            status="terminating",
            opened_by="system",
        )
        account = BankAccount.objects.create(
            person=who,
            holder=f"Holder{key}{key}K5",
            country=country,
            iban=iban,
            bic=bic,
            currency="EUR",
        )
        app = TerminationApplication.objects.create(
            case=case,
            person=who,
            closing_date=START + timedelta(days=50),
            amount=1_234_500,
            statement={"years": [], "explanation": []},
            bank_account=account,
            signed_via="upload" if status == "submitted" else "portal",
            # the signed form carries the holder's name: served only to the region's reviewers
            signed_form=f"%PDF-1.4\n% Holder{key}{key}K5 signed form\n".encode()
            if status == "submitted"
            else None,
            signed_form_type="application/pdf" if status == "submitted" else "",
            status=status,
        )
        made.append((case, app, account))
    (case, app, _acct), (_c2, app2, acct2) = made
    run = PaymentRun.objects.create(
        region_code=region,
        message_id=f"EXP{region}ISO{key}",
        created_by="system",
        execution_date=START + timedelta(days=55),
        count=1,
        total=1_234_500,
        xml=f"<Document><Nm>Holder{key}{key}K5</Nm><IBAN>{iban}</IBAN></Document>",
        sha256="0" * 64,
    )
    Payout.objects.create(
        application=app2,
        person=person2,
        region_code=region,
        amount=1_234_500,
        currency="EUR",
        bank_account=acct2,
        end_to_end_id=f"LSISO{key}N001",
        status="sent",
        run=run,
        created_by="system",
    )
    return case, app, run, iban


def _death(
    key: str, region: str, person: Person
) -> tuple[DeathReport, InheritanceClaim, DeathDocument]:
    """The second person's death, reported by a family member with a certificate, and the
    heirs' claim awaiting the agency's decision, made as the services leave them."""
    death = DeathReport.objects.create(
        person=person,
        region_code=region,
        died_on=START + timedelta(days=60),
        reporter="family",
        reporter_name=f"Kin{key}{key}V6",
        relationship="spouse",
        recorded_by_label="system",
    )
    claim = InheritanceClaim.objects.create(
        death=death, person=person, region_code=region, filed_by_label="system"
    )
    account = BankAccount.objects.create(
        person=person,
        holder=f"Heir{key}{key}W4",
        country="DEU",
        iban=IBANS[key],
        bic="COBADEFFXXX",
        currency="EUR",
    )
    Heir.objects.create(
        claim=claim,
        position=1,
        name=f"Heir{key}{key}W4",
        relationship="spouse",
        bank_account=account,
    )
    document = DeathDocument.objects.create(
        death=death,
        name=f"Kin{key}{key}V6-certificate.pdf",
        content_type="application/pdf",
        content=b"%PDF-1.4 Heir" + key.encode() * 2 + b"W4",
        size=20,
        uploaded_by_label="system",
    )
    DeathDocument.objects.create(
        death=death,
        claim=claim,
        name="inheritance.pdf",
        content_type="application/pdf",
        content=b"%PDF-1.4",
        size=8,
        uploaded_by_label="system",
    )
    return death, claim, document


@pytest.fixture(scope="module")
def iso_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[IsoWorld]:
    """Built once for the module inside a transaction that is rolled back at its end; every probe
    runs in a savepoint of its own (:func:`probe_savepoint`)."""
    with django_db_blocker.unblock(), transaction.atomic():
        users = {
            role: UserFactory(username=f"iso-{role}", email=f"iso-{role}@example.org")
            for role in ("agency", "agency_sh", "hr_a", "hr_b", "self", "other")
        }
        AgencyStaffFactory(user=users["agency"], regions="")
        AgencyStaffFactory(user=users["agency_sh"], regions="310000")
        # Both are agency administrators too, so the administration pages are probed by an
        # administrator of another region (agency_sh against tenant A), not only by non-admins.
        for role in ("agency", "agency_sh"):
            users[role].is_staff = True
            users[role].save(update_fields=["is_staff"])
        a = _tenant("A", users["hr_a"], users["self"])
        b = _tenant("B", users["hr_b"], users["other"])
        _token, secret = api_token_create(actor=SYSTEM, employer_id=a.employer.pk, name="HR system")
        sessions = {}
        for role, user in users.items():
            client = verified_login(Client(), user)  # agency staff: the second step done too
            sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        yield IsoWorld(
            tenants={"A": a, "B": b}, sessions=sessions, token_secret=secret, users=users
        )
        transaction.set_rollback(True)


# --- leak detection -------------------------------------------------------------------------------


def response_bytes(response: HttpResponseBase) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)  # type: ignore[attr-defined]


def searchable_text(response: HttpResponseBase, body: bytes) -> str | None:
    """The response as text to search, or None when it is opaque (an image; a PDF without
    ``pdftotext``, which `make test` installs with poppler-utils)."""
    ctype = response.get("Content-Type", "")
    headers = " ".join(f"{k}: {v}" for k, v in response.items())
    if ctype.startswith("image/"):
        return None
    if body.startswith(b"%PDF"):
        if PDFTOTEXT is None:  # opaque: see test_pdf_bodies_are_searched
            return None
        text = subprocess.run(
            [PDFTOTEXT, "-q", "-", "-"], input=body, capture_output=True, check=True
        ).stdout.decode("utf-8", "replace")
        return headers + " " + re.sub(r"\s+", "", text)
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts = [
                archive.read(name).decode("utf-8", "replace")
                for name in archive.namelist()
                if name.endswith((".xml", ".rels", ".csv", ".txt"))
            ]
        return headers + " " + html.unescape(" ".join(parts))
    return headers + " " + html.unescape(body.decode("utf-8", "replace"))


def leaks(text: str, markers: list[str], sent: str) -> list[str]:
    """The markers found in ``text``, leaving out those the request itself carried (an error
    message that repeats the caller's input tells the caller nothing new)."""
    haystack = text.casefold()
    squeezed = re.sub(r"\s+", "", haystack)
    sent_folded = sent.casefold()
    return [
        m
        for m in markers
        if m.casefold() not in sent_folded
        and (m.casefold() in haystack or re.sub(r"\s+", "", m.casefold()) in squeezed)
    ]


def _pension(key: str, region: str, person: Person) -> tuple[Pension, ProofOfLife]:
    """The first person's pension, awarded and paid to the tenant's account abroad, with a life
    certificate awaiting the agency's review."""
    account = BankAccount.objects.filter(person=person).order_by("pk").first()
    assert account is not None
    pension = Pension.objects.create(
        person=person,
        region_code=region,
        applied_on=START,
        applied_by="system",
        first_month="2025-01",
        basic=100_000,
        account=23_450,
        total=123_450,
        lines=[],
        figures_status="SECONDARY",
        bank_account=account,
        status="awarded",
        verified_on=START,
        proof_due=START + timedelta(days=365),
    )
    proof = ProofOfLife.objects.create(
        pension=pension,
        person=person,
        route="embassy",
        verified_on=START,
        document=b"%PDF-1.4 Holder" + key.encode() * 2 + b"K5",
        document_type="application/pdf",
        submitted_by="system",
    )
    return pension, proof
