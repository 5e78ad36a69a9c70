"""One set of test factories (factory_boy) for the rows every test world is made of.

Two kinds, for two needs:

* **Rows** (``DjangoModelFactory``): a user, an agency officer, an employer, an HR membership, a
  person with a passport, a document, an employment, a registration, a certificate of coverage, a
  card as applied for, a bill's header. They write rows directly, fast, with values the services would
  have written (a person has one current passport; an employment is the first version of its
  engagement; a registration's deadline is the rule's): use them when a test needs data to exist,
  not when it tests how the data came to be. They leave no audit event.
* **Through the services**: :class:`PersonDataFactory` and :class:`HireDataFactory`
  (``factory.Factory`` over the services' dataclasses) build a valid ``HireData``, and :func:`hire`
  registers it through ``hire_register`` as HR would, with every check, document and audit event;
  :class:`RegisteredEmployerFactory` and :func:`hr_user` do the same for an employer and an HR
  user. Use them when a test relies on what the services compute or record.

Encrypted fields are set as the services set them: ``Passport.number`` takes the plain number and
its keyed hash (``number_hash``) is computed on save by the field itself, so lookups by
``search_hashes`` find factory passports exactly like registered ones. Never set a hash by hand.

Every default is deterministic (sequences and fixed dates, or dates relative to today where a rule
compares with today): a failure repeats. Pass any field to override it::

    employer = EmployerFactory(region_code="310000", name="Shanghai Co.")
    person = PersonFactory(family_name="Schmidt", passport__number="C01X00T47")
    bare = PersonFactory(passport=None)  # no passport (billing and card tests need none)
    AgencyStaffFactory(user__username="officer", regions="310000")
    registration = hire(employer, person__family_name="Dubois")
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import factory
from django.db.models import Q
from django.utils import timezone
from factory.django import DjangoModelFactory

from expatsi.access.actors import SYSTEM, Actor
from expatsi.access.models import AgencyStaff
from expatsi.billing.models import Bill, BillKind
from expatsi.cards import services as cards_services
from expatsi.cards.card_document import APPLICATION_REFERENCE
from expatsi.cards.models import Card, CardStatus, Category
from expatsi.employers.models import Employer, EmployerKind, HrMembership, WorkInjuryRating
from expatsi.employers.services import employer_create, hr_user_add
from expatsi.insurance.models import (
    CoverageCertificate,
    Employment,
    Registration,
    RegistrationStatus,
)
from expatsi.insurance.services import HireData, hire_register
from expatsi.people.models import Document, DocumentKind, Language, Passport, Person, Sex
from expatsi.people.services import PersonData, person_find_or_create
from expatsi.rules.deadlines import deadline
from expatsi.rules.identifiers import uscc_check_char


def today() -> date:
    return timezone.localdate()


def uscc_for(region_code: str, n: int) -> str:
    """A valid unified social credit code of ``region_code``. The organisation part starts with 8,
    so that it never meets the fixed codes the worlds spell out (…600037341L and the like)."""
    body = f"91{region_code}8{n:08d}"
    return body + uscc_check_char(body)


# --- users and roles ---------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    """A user through ``create_user``: without ``password`` the account has no usable password
    (it signs in only through ``force_login``/``verified_login`` in tests)."""

    class Meta:
        model = "auth.User"

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return model_class._default_manager.create_user(*args, **kwargs)


class AgencyStaffFactory(DjangoModelFactory):
    """An agency officer's profile; ``regions`` empty means every region. The user is on
    ``.user``; agency staff sign in with a second factor (``tests.twofactor.verified_login``)."""

    class Meta:
        model = AgencyStaff

    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"officer{n}"))
    regions = ""


# --- employers -----------------------------------------------------------------------------------


class EmployerFactory(DjangoModelFactory):
    """A domestic employer in Beijing with a valid USCC of its region; the trait
    ``representative_office=True`` makes a representative office of a German company."""

    class Meta:
        model = Employer

    name = factory.Sequence(lambda n: f"Employer {n} Co., Ltd.")
    region_code = "110000"
    uscc = factory.LazyAttributeSequence(lambda o, n: uscc_for(o.region_code, n))
    kind = EmployerKind.DOMESTIC

    class Params:
        representative_office = factory.Trait(
            kind=EmployerKind.REPRESENTATIVE_OFFICE,
            overseas_company="Parent AG",
            overseas_country="DEU",
        )


class RegisteredEmployerFactory(EmployerFactory):
    """The same employer registered through ``employer_create`` by the system: validated, with
    its ``employer.create`` audit event (for tests that read the audit trail or region scopes)."""

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Employer:
        return employer_create(actor=SYSTEM, **kwargs)


class WorkInjuryRatingFactory(DjangoModelFactory):
    """Class I at 100 % (0.2 %) from 2020 on, open-ended."""

    class Meta:
        model = WorkInjuryRating

    employer = factory.SubFactory(EmployerFactory)
    industry_class = "I"
    grade_ppm = 1_000_000
    rate_ppm = 2_000
    effective_from = date(2020, 1, 1)


class HrMembershipFactory(DjangoModelFactory):
    """A user acting as HR of an employer (``.user`` signs in as HR)."""

    class Meta:
        model = HrMembership

    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"hr{n}"))
    employer = factory.SubFactory(EmployerFactory)


def hr_user(
    employer: Employer, username: str, *, email: str = "", password: str | None = None
) -> Any:
    """A new user who is HR of ``employer``, made through ``hr_user_add`` as the system makes one
    (membership and ``employer.hr_add`` audit event); rows only: :class:`HrMembershipFactory`."""
    return hr_user_add(
        actor=SYSTEM,
        employer=employer,
        username=username,
        email=email or f"{username}@example.invalid",
        password=password,
    )


# --- people --------------------------------------------------------------------------------------


class PassportFactory(DjangoModelFactory):
    """A current passport issued by the holder's country. ``number`` is the plain number: the
    field encrypts it and computes ``number_hash`` on save, as for a registered one."""

    class Meta:
        model = Passport

    person = factory.SubFactory("tests.factories.PersonFactory", passport=None)
    country = factory.LazyAttribute(lambda o: o.person.nationality)
    number = factory.Sequence(lambda n: f"F{n:08d}")
    is_current = True


class PersonFactory(DjangoModelFactory):
    """A foreign employee with one current passport, as ``person_find_or_create`` leaves them;
    ``passport=None`` makes one without, ``passport__number=...`` chooses the number."""

    class Meta:
        model = Person
        skip_postgeneration_save = True

    family_name = factory.Sequence(lambda n: f"Tester{n}")
    given_names = "Anna"
    sex = Sex.FEMALE
    birth_date = date(1985, 3, 14)
    nationality = "DEU"
    preferred_language = Language.EN
    passport = factory.RelatedFactory(
        PassportFactory,
        factory_related_name="person",
        country=factory.SelfAttribute("..nationality"),
    )


class DocumentFactory(DjangoModelFactory):
    """An Integrated Card issued ten days ago, valid two years (the longest validity is five)."""

    class Meta:
        model = Document

    person = factory.SubFactory(PersonFactory)
    kind = DocumentKind.INTEGRATED_CARD
    number = factory.Sequence(lambda n: f"FD{n:010d}")
    issued_on = factory.LazyFunction(lambda: today() - timedelta(days=10))
    valid_from = factory.SelfAttribute("issued_on")
    valid_to = factory.LazyAttribute(lambda o: o.valid_from + timedelta(days=730))


# --- insurance -----------------------------------------------------------------------------------


class EmploymentFactory(DjangoModelFactory):
    """An open-ended employment, the first version of its engagement (as ``employment_start``
    writes it). ``contract_wage`` is in fen: 30,000 yuan a month by default."""

    class Meta:
        model = Employment
        skip_postgeneration_save = True

    person = factory.SubFactory(PersonFactory)
    employer = factory.SubFactory(EmployerFactory)
    start_date = factory.LazyFunction(lambda: today() - timedelta(days=5))
    end_date = None
    position = "Engineer"
    contract_wage = 3_000_000

    @factory.post_generation
    def engagement(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        # ``self`` is the employment made (factory_boy calls this with the object).
        self.engagement = extracted or self
        if create:
            Employment.objects.filter(pk=self.pk).update(engagement=self.engagement)


class RegistrationFactory(DjangoModelFactory):
    """A submitted registration of an employment, on an Integrated Card issued on the day work
    started, with the deadline the rule gives (30 days from the permit's issue)."""

    class Meta:
        model = Registration

    employment = factory.SubFactory(EmploymentFactory)
    person = factory.SelfAttribute("employment.person")
    employer = factory.SelfAttribute("employment.employer")
    permit = factory.SubFactory(
        DocumentFactory,
        person=factory.SelfAttribute("..employment.person"),
        issued_on=factory.SelfAttribute("..employment.start_date"),
    )
    permit_issued_on = factory.SelfAttribute("permit.issued_on")
    deadline = factory.LazyAttribute(lambda o: deadline("registration", o.permit_issued_on).due)
    insurance_start = factory.SelfAttribute("employment.start_date")
    status = RegistrationStatus.SUBMITTED


class CoverageCertificateFactory(DjangoModelFactory):
    """A certificate of coverage from the holder's country (Germany has an agreement in force)."""

    class Meta:
        model = CoverageCertificate

    person = factory.SubFactory(PersonFactory)
    number = factory.Sequence(lambda n: f"COC-{n}")
    country = factory.LazyAttribute(lambda o: o.person.nationality)
    valid_from = date(2024, 1, 1)
    valid_to = date(2028, 12, 31)


# --- cards and billing (rows only: their life goes through the services) ------------------------


class CardFactory(DjangoModelFactory):
    """A card as applied for: no number, no validity yet. Approving, activating and changing a
    card are the card services' (``tests.cards.helpers.active_card``)."""

    class Meta:
        model = Card

    person = factory.SubFactory(PersonFactory)
    employer = factory.SubFactory(EmployerFactory)
    category = Category.B
    position = "Engineer"
    status = CardStatus.APPLIED


class BillFactory(DjangoModelFactory):
    """A regular bill's header with the totals given (in fen) and no lines: for tests of what is
    done with a bill (payments, listings). Bills with lines come from ``billing_run``."""

    class Meta:
        model = Bill

    employer = factory.SubFactory(EmployerFactory)
    region_code = factory.SelfAttribute("employer.region_code")
    month = "2025-08"
    kind = BillKind.REGULAR
    number = factory.Sequence(lambda n: f"TEST-{n:08d}")
    policy_version = "test"
    employer_total = 0
    employee_total = 0
    due_date = date(2025, 9, 15)


# --- service input -------------------------------------------------------------------------------


class PersonDataFactory(factory.Factory):
    """What HR types about a new person: valid, with a passport number of its own."""

    class Meta:
        model = PersonData

    family_name = factory.Sequence(lambda n: f"Hire{n}")
    given_names = "Anna"
    sex = Sex.FEMALE
    birth_date = date(1990, 4, 12)
    nationality = "DEU"
    passport_number = factory.Sequence(lambda n: f"H{n:08d}")


class HireDataFactory(factory.Factory):
    """A hire that ``hire_register`` accepts: an Integrated Card issued five days ago, a residence
    permit from the same day, both valid two years, work starting the day the card was issued."""

    class Meta:
        model = HireData

    person = factory.SubFactory(PersonDataFactory)
    permit_kind = DocumentKind.INTEGRATED_CARD
    permit_number = factory.Sequence(lambda n: f"HIC{n:09d}")
    permit_issued_on = factory.LazyFunction(lambda: today() - timedelta(days=5))
    permit_valid_to = factory.LazyAttribute(lambda o: o.permit_issued_on + timedelta(days=730))
    start_date = factory.SelfAttribute("permit_issued_on")
    position = "Engineer"
    contract_wage = 3_000_000
    residence_permit_number = factory.Sequence(lambda n: f"HRP{n:08d}")
    residence_permit_issued_on = factory.SelfAttribute("permit_issued_on")
    residence_permit_valid_to = factory.LazyAttribute(
        lambda o: o.residence_permit_issued_on + timedelta(days=730)
    )


def card_for(
    employer: Employer,
    person: PersonData,
    number: str,
    *,
    issued: date | None = None,
    valid_to: date | None = None,
    legacy: bool = False,
) -> Card:
    """The card ``number``, on file for ``person``: in force from ``issued`` (today by default)
    until ``valid_to`` (two years on); a physical work permit when ``legacy``. The person is found
    or created through the people service as a hire would; a card of that number, or the card the
    person already holds, is returned as it is (one live card a person).

    An Integrated Card is built through the steps production takes (:func:`card_through_steps`),
    so it has its application, history and QR code. A physical permit, or a card whose validity
    already ended, is a row written directly: production brings neither about through steps (a
    physical permit is imported with an 18-digit number, which these worlds do not spell; the
    steps refuse a validity in the past)."""
    number = number.replace(" ", "").upper()
    existing = Card.objects.filter(Q(card_number=number) | Q(permit_number=number)).first()
    if existing is not None:
        return existing
    holder, _ = person_find_or_create(actor=SYSTEM, data=person)
    held = Card.objects.filter(person=holder, status__in=LIVE_CARD_STATUSES).first()
    if held is not None:
        return held
    issued = issued or today()
    valid_to = valid_to or issued + timedelta(days=730)
    if not legacy and valid_to > today() and issued <= today():
        return card_through_steps(employer, holder, number, issued=issued, valid_to=valid_to)
    return Card.objects.create(
        person=holder,
        employer=employer,
        card_number=None if legacy else number,
        permit_number=number if legacy else "",
        category=Category.B,
        position="Engineer",
        notice_issued_on=issued,
        valid_from=issued,
        valid_to=valid_to,
        status=CardStatus.ACTIVE,
        legacy=legacy,
    )


# The card statuses a person may hold only one of (``card_one_live_per_person``).
LIVE_CARD_STATUSES = (CardStatus.APPLIED, CardStatus.NOTICE_ISSUED, CardStatus.ACTIVE)


def card_through_steps(
    employer: Employer,
    person: Person,
    number: str | None = None,
    *,
    issued: date | None = None,
    valid_to: date,
    actor: Actor = SYSTEM,
) -> Card:
    """A card as production makes one: the employer's application (``card_apply``), the
    agency's approval (``application_decide``, which issues the work permit notice and the
    numbers) and the holder's entry (``card_record_entry``, which makes the card active and issues
    its QR code) — each with its history event — by ``actor`` (the system, an agency actor).

    Only the authority's own outputs are pinned, between approval and entry, so that a world's
    golden values stay fixed: the notice date (``issued``; the approval dates it today) and, when
    given, the card ``number`` (the approval draws one). The entry is on ``issued``; the QR code is
    issued after the pin, so it carries the number on the card."""
    issued = issued or today()
    app = cards_services.card_apply(
        actor=actor,
        employer=employer,
        person=person,
        category=Category.B,
        position="Engineer",
        valid_to=valid_to,
    )
    cards_services.application_decide(actor=actor, application_id=app.pk, approve=True)
    pinned: dict[str, Any] = {
        "notice_issued_on": issued,
        "notice_valid_to": deadline("work_permit_notice_validity", issued).due,
    }
    if number:
        pinned["card_number"] = number
    Card.objects.filter(pk=app.card_id).update(**pinned)
    return cards_services.card_record_entry(actor=actor, card_id=app.card_id, entry_date=issued)


def card_on_file(employer: Employer, data: HireData) -> Card | None:
    """The card a hire of ``data`` names (:func:`card_for` with the hire's number and dates);
    nothing for a press card or permanent resident ID card, which the hire files itself, nor for
    a hire on a pending card application (``A`` and its number), which is on file already."""
    if data.permit_kind not in (DocumentKind.INTEGRATED_CARD, DocumentKind.WORK_PERMIT):
        return None
    if APPLICATION_REFERENCE.match(data.permit_number.strip().upper()):
        return None
    return card_for(
        employer,
        data.person,
        data.permit_number,
        issued=data.permit_issued_on,
        valid_to=data.permit_valid_to,
        legacy=data.permit_kind == DocumentKind.WORK_PERMIT,
    )


def example_card_on_file(employer: Employer) -> Card:
    """The card the import template's example row names (insurance.imports.COLUMNS), on file for
    the example person: issued 2026-11-02, valid until 2028-11-01."""
    return card_for(
        employer,
        PersonData(
            family_name="MÜLLER",
            given_names="Anna Maria",
            sex=Sex.FEMALE,
            birth_date=date(1990, 4, 12),
            nationality="DEU",
            passport_number="C01X00T47",
        ),
        "11260000001234",
        issued=date(2026, 11, 2),
        valid_to=date(2028, 11, 1),
    )


def hire(employer: Employer, *, actor: Actor = SYSTEM, **overrides: Any) -> Registration:
    """Register a hire through ``hire_register`` (person, documents, employment, registration,
    audit events), from :class:`HireDataFactory` with ``overrides`` (``person__family_name=...``).

    A hire names the person's card on file, as in production, so the card is put on file first
    (:func:`card_on_file`, through the card steps)."""
    data = HireDataFactory(**overrides)
    card_on_file(employer, data)
    return hire_register(actor=actor, employer=employer, data=data)
