"""A generated, realistic demo data set (seeded, so every run generates the same people).

Everything goes through the services with the ``SYSTEM`` actor, so the data obeys the same rules as
real input (valid USCCs, passports, deadlines, social security numbers, audit trail). One
transaction; loading again finds the demo employers and adds nothing.

Dates are relative to the day of loading, so deadlines are "due soon" and "overdue" whenever the
demo is started.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from expatsi.access.actors import SYSTEM
from expatsi.access.models import AgencyStaff
from expatsi.access.twofactor import key_from_base32
from expatsi.billing.models import Bill
from expatsi.billing.services import billing_run, payment_record
from expatsi.cards import services as cards
from expatsi.cards.keys import keys_init
from expatsi.cards.models import Card, CardStatus
from expatsi.demo import benefits_more, departures
from expatsi.demo.compliance import load_compliance
from expatsi.employers.models import Employer, EmployerKind
from expatsi.employers.services import employer_create, hr_user_add, work_injury_rating_set
from expatsi.insurance.models import Registration, RegistrationStatus
from expatsi.insurance.reminders import run_daily
from expatsi.insurance.services import (
    HireData,
    certificate_add,
    employment_change,
    employment_end,
    hire_register,
    registration_accept,
)
from expatsi.people.models import DocumentKind, Language, Person
from expatsi.people.services import PersonData, person_find_or_create
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import uscc_check_char

SEED = 20261123
PEOPLE = 200
INTEGRATED_CARD_FROM = date(2024, 12, 1)  # work permits issued from then on are Integrated Cards
FIVE_YEARS = timedelta(days=5 * 365)  # the longest a permit is valid (access/validation.py)


@dataclass(frozen=True, slots=True)
class Login:
    role: str
    username: str
    note: str = ""


# Demo only: the agency demo users' authenticator key, published in the README and printed by
# `make demo` so that a tester can add it to an authenticator app (EXPATSI_DEMO_TOTP_SECRET).
# A published key protects nothing: never run demo_setup on a real installation.
DEMO_TOTP_SECRET = "EXPATSIDEMOONLYKEYNOTSECRET23456"  # noqa: S105 - published, demo only
AGENCY_DEMO_USERS = ("agency-admin", "agency-officer", "agency-shanghai")


@dataclass(slots=True)
class DemoResult:
    created: bool
    logins: list[Login] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


# --- the employers ---------------------------------------------------------------------------

EMPLOYERS: list[dict[str, Any]] = [
    {
        "key": "jingcheng",
        "name": "Jingcheng Precision Instruments Co., Ltd.",
        "name_zh": "京城精密仪器有限公司",
        "region_code": "110000",
        "district": "110108",
        "kind": EmployerKind.DOMESTIC,
        "address": "18 Zhongguancun Street, Haidian District, Beijing",
        "class": "II",
        "grade": "100%",
        "share": 80,
    },
    {
        "key": "rheinland",
        "name": "Rheinland Maschinenbau GmbH Beijing Representative Office",
        "name_zh": "莱茵兰机械制造有限公司北京代表处",
        "region_code": "110000",
        "district": "110105",
        "kind": EmployerKind.REPRESENTATIVE_OFFICE,
        "overseas_company": "Rheinland Maschinenbau GmbH",
        "overseas_country": "DEU",
        "address": "Room 1203, Kerry Centre, 1 Guanghua Road, Chaoyang District, Beijing",
        "class": "I",
        "grade": "100%",
        "share": 15,
    },
    {
        "key": "pujiang",
        "name": "Pujiang BioPharma Co., Ltd.",
        "name_zh": "浦江生物医药有限公司",
        "region_code": "310000",
        "district": "310115",
        "kind": EmployerKind.DOMESTIC,
        "address": "288 Halei Road, Zhangjiang, Pudong New Area, Shanghai",
        "class": "III",
        "grade": "80%",
        "share": 75,
    },
    {
        "key": "hanbit",
        "name": "Hanbit Electronics Co., Ltd. Shanghai Branch",
        "name_zh": "韩光电子株式会社上海分公司",
        "region_code": "310000",
        "district": "310104",
        "kind": EmployerKind.BRANCH,
        "overseas_company": "Hanbit Electronics Co., Ltd.",
        "overseas_country": "KOR",
        "address": "1000 Yishan Road, Xuhui District, Shanghai",
        "class": "II",
        "grade": "120%",
        "share": 30,
    },
]

# --- names by nationality: (family names, male given names, female given names, cities) -------

NAMES: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "DEU": (
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann"],
        ["Lukas", "Jonas", "Felix", "Maximilian", "Tobias"],
        ["Lena", "Anna", "Katharina", "Julia", "Sophie"],
        ["Berlin", "Munich", "Hamburg", "Stuttgart", "Cologne"],
    ),
    "JPN": (
        ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"],
        ["Haruto", "Kenji", "Takumi", "Daiki", "Shota"],
        ["Yui", "Aoi", "Sakura", "Haruka", "Misaki"],
        ["Tokyo", "Osaka", "Nagoya", "Yokohama", "Fukuoka"],
    ),
    "KOR": (
        ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon"],
        ["Minjun", "Seojun", "Jihoon", "Hyunwoo", "Donghyun"],
        ["Seoyeon", "Jiwoo", "Minji", "Yuna", "Soyeon"],
        ["Seoul", "Busan", "Incheon", "Daegu", "Suwon"],
    ),
    "FRA": (
        ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"],
        ["Hugo", "Louis", "Antoine", "Julien", "Mathieu"],
        ["Camille", "Chloé", "Manon", "Léa", "Élodie"],
        ["Paris", "Lyon", "Toulouse", "Marseille", "Bordeaux"],
    ),
    "USA": (
        ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Garcia"],
        ["James", "Michael", "David", "Daniel", "Ryan"],
        ["Emily", "Sarah", "Jessica", "Ashley", "Megan"],
        ["New York", "San Francisco", "Chicago", "Seattle", "Boston"],
    ),
    "GBR": (
        ["Taylor", "Evans", "Wilson", "Roberts", "Walker", "Wright", "Hughes", "Green"],
        ["Oliver", "Harry", "George", "Thomas", "William"],
        ["Olivia", "Amelia", "Emily", "Charlotte", "Grace"],
        ["London", "Manchester", "Edinburgh", "Bristol", "Leeds"],
    ),
    "CAN": (
        ["Tremblay", "Roy", "Gagnon", "MacDonald", "Campbell", "Anderson"],
        ["Liam", "Noah", "Ethan", "Nathan"],
        ["Emma", "Chloe", "Avery", "Maya"],
        ["Toronto", "Montreal", "Vancouver", "Ottawa"],
    ),
    "ITA": (
        ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"],
        ["Marco", "Luca", "Alessandro", "Matteo"],
        ["Giulia", "Francesca", "Chiara", "Sara"],
        ["Milan", "Rome", "Turin", "Bologna"],
    ),
    "ESP": (
        ["García", "Fernández", "González", "Rodríguez", "López", "Martínez"],
        ["Javier", "Alejandro", "Pablo", "Sergio"],
        ["Lucía", "María", "Paula", "Carmen"],
        ["Madrid", "Barcelona", "Valencia", "Seville"],
    ),
    "NLD": (
        ["de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser"],
        ["Daan", "Sem", "Bram", "Thijs"],
        ["Emma", "Sanne", "Fleur", "Lotte"],
        ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"],
    ),
    "CHE": (
        ["Meier", "Keller", "Brunner", "Baumann", "Frei", "Gerber"],
        ["Luca", "Nico", "Reto", "Urs"],
        ["Nina", "Laura", "Corinne", "Sandra"],
        ["Zurich", "Geneva", "Basel", "Bern"],
    ),
    "DNK": (
        ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen"],
        ["Mads", "Rasmus", "Frederik"],
        ["Freja", "Ida", "Mette"],
        ["Copenhagen", "Aarhus", "Odense"],
    ),
    "FIN": (
        ["Korhonen", "Virtanen", "Mäkinen", "Nieminen"],
        ["Mikko", "Juha", "Antti"],
        ["Aino", "Emilia", "Sanna"],
        ["Helsinki", "Espoo", "Tampere"],
    ),
    "RUS": (
        ["Ivanov", "Smirnov", "Kuznetsov", "Popov", "Volkov", "Sokolov"],
        ["Dmitry", "Alexei", "Sergei", "Ivan"],
        ["Anastasia", "Ekaterina", "Olga", "Natalia"],
        ["Moscow", "Saint Petersburg", "Kazan", "Novosibirsk"],
    ),
    "IND": (
        ["Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Nair"],
        ["Arjun", "Rahul", "Vikram", "Aditya"],
        ["Priya", "Ananya", "Kavya", "Neha"],
        ["Bengaluru", "Mumbai", "Delhi", "Chennai"],
    ),
    "AUS": (
        ["Smith", "Jones", "Williams", "Kelly", "Murphy"],
        ["Jack", "Lachlan", "Cooper"],
        ["Isla", "Matilda", "Ruby"],
        ["Sydney", "Melbourne", "Brisbane"],
    ),
    "BRA": (
        ["Silva", "Santos", "Oliveira", "Souza", "Costa"],
        ["Gabriel", "Lucas", "Rafael"],
        ["Beatriz", "Mariana", "Larissa"],
        ["São Paulo", "Rio de Janeiro", "Curitiba"],
    ),
    "SGP": (
        ["Tan", "Lim", "Ng", "Wong", "Goh"],
        ["Wei Jie", "Jun Hao", "Darren"],
        ["Hui Min", "Xin Yi", "Rachel"],
        ["Singapore"],
    ),
    "SWE": (
        ["Andersson", "Johansson", "Karlsson", "Nilsson"],
        ["Erik", "Oskar", "Viktor"],
        ["Elsa", "Maja", "Astrid"],
        ["Stockholm", "Gothenburg", "Malmö"],
    ),
    "MEX": (
        ["Hernández", "López", "Ramírez", "Torres"],
        ["Diego", "Carlos", "Emiliano"],
        ["Valeria", "Ximena", "Daniela"],
        ["Mexico City", "Guadalajara", "Monterrey"],
    ),
    "VNM": (
        ["Nguyen", "Tran", "Le", "Pham"],
        ["Minh", "Duc", "Quang"],
        ["Linh", "Trang", "Huong"],
        ["Hanoi", "Ho Chi Minh City", "Da Nang"],
    ),
    "EGY": (
        ["Hassan", "Mahmoud", "Ibrahim", "Mostafa"],
        ["Ahmed", "Omar", "Karim"],
        ["Nour", "Salma", "Yasmin"],
        ["Cairo", "Alexandria", "Giza"],
    ),
}
WEIGHTS = {
    "DEU": 22,
    "JPN": 20,
    "KOR": 20,
    "FRA": 14,
    "USA": 18,
    "GBR": 12,
    "CAN": 8,
    "ITA": 7,
    "ESP": 6,
    "NLD": 6,
    "CHE": 5,
    "DNK": 3,
    "FIN": 3,
    "RUS": 8,
    "IND": 8,
    "AUS": 6,
    "BRA": 5,
    "SGP": 6,
    "SWE": 4,
    "MEX": 3,
    "VNM": 4,
    "EGY": 3,
}
AGREEMENT_IN_FORCE = ("DEU", "KOR", "JPN", "CHE", "NLD", "ESP", "CAN", "DNK", "FIN")
POSITIONS = [
    "Software Engineer",
    "Senior R&D Engineer",
    "Product Manager",
    "Quality Assurance Manager",
    "Chief Representative",
    "Sales Director",
    "Finance Controller",
    "Process Engineer",
    "Clinical Research Scientist",
    "Regulatory Affairs Manager",
    "Design Engineer",
    "General Manager",
    "Marketing Manager",
    "Data Scientist",
    "Supply Chain Manager",
    "Language Teacher",
]


def _promoted(position: str) -> str:
    """The position a change request asks for: one step up, never "Senior Senior …"."""
    if position.startswith("Senior "):
        return "Principal " + position.removeprefix("Senior ")
    return "Senior " + position


def _uscc(rng: random.Random, district: str) -> str:
    body = (
        "91" + district + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    )
    return body + uscc_check_char(body)


def _passport(rng: random.Random, nationality: str) -> str:
    digits = "0123456789"
    if nationality == "DEU":
        return "C" + "".join(rng.choice("CFGHJKLMNPRTVWXYZ0123456789") for _ in range(8))
    if nationality == "JPN":
        return rng.choice(["TR", "TZ", "MU"]) + "".join(rng.choice(digits) for _ in range(7))
    if nationality == "KOR":
        return "M" + "".join(rng.choice(digits) for _ in range(8))
    if nationality == "FRA":
        return (
            "".join(rng.choice(digits) for _ in range(2))
            + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
            + "".join(rng.choice(digits) for _ in range(5))
        )
    if nationality in ("USA", "GBR", "AUS"):
        return "".join(rng.choice(digits) for _ in range(9))
    return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)) + "".join(
        rng.choice(digits) for _ in range(7)
    )


@dataclass(frozen=True, slots=True)
class _Plan:
    """What happens to one generated person."""

    state: str  # accepted, accepted_late, submitted, due_soon, overdue
    permit_issued: date


def _plans(rng: random.Random, n: int, today: date) -> list[_Plan]:
    plans: list[_Plan] = []
    for i in range(n):
        r = i % 20
        if r in (0, 1):  # 10 %: still waiting, deadline more than a week away
            plans.append(_Plan("submitted", today - timedelta(days=rng.randint(1, 22))))
        elif r == 2:  # 5 %: due within 7 days
            plans.append(_Plan("due_soon", today - timedelta(days=rng.randint(23, 29))))
        elif r in (3, 4):  # 10 %: overdue
            plans.append(_Plan("overdue", today - timedelta(days=rng.randint(31, 75))))
        elif r == 5:  # 5 %: registered late
            plans.append(_Plan("accepted_late", today - timedelta(days=rng.randint(120, 1500))))
        else:
            # at most ~4.7 years ago: a permit is valid for at most 5 years (access/validation.py)
            age = min(rng.randint(60, 2200), 1700)
            plans.append(_Plan("accepted", today - timedelta(days=age)))
    rng.shuffle(plans)
    return plans


@contextmanager
def _no_email() -> Iterator[None]:
    """Demo users have example addresses: keep the inbox entries, send no e-mail."""
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        yield


def _user(username: str, password: str, *, email: str = "", superuser: bool = False) -> Any:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={"email": email, "is_staff": superuser, "is_superuser": superuser},
    )
    if created:
        user.set_password(password)
        user.save()
    return user


def demo_load(
    *,
    password: str,
    today: date | None = None,
    people: int = PEOPLE,
    seed: int = SEED,
    totp_secret: str = DEMO_TOTP_SECRET,
) -> DemoResult:
    """Load the demo data set unless it is there already; return the logins either way. The agency
    users' authenticators are (re)set to ``totp_secret`` on every run."""
    totp_key = key_from_base32(totp_secret)  # a bad secret stops before anything is written
    today = today or timezone.localdate()
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    usccs = {e["key"]: _uscc(rng, e["district"]) for e in EMPLOYERS}
    existing = Employer.objects.filter(uscc__in=usccs.values()).exists()
    result = DemoResult(created=not existing)
    # No e-mail until after the commit: the notifications' e-mails are sent then (on_commit).
    with _no_email(), transaction.atomic():
        if not existing:
            _load(rng, usccs, today, people, password, result)
        _authenticators(totp_key)
        result.logins = _logins()
    return result


def _load(
    rng: random.Random,
    usccs: dict[str, str],
    today: date,
    n: int,
    password: str,
    result: DemoResult,
) -> None:
    keys_init()  # a demo installation signs its cards with keys of its own (idempotent)
    employers: dict[str, Employer] = {}
    for e in EMPLOYERS:
        emp = employer_create(
            actor=SYSTEM,
            name=e["name"],
            name_zh=e["name_zh"],
            uscc=usccs[e["key"]],
            region_code=e["region_code"],
            kind=e["kind"],
            overseas_company=e.get("overseas_company", ""),
            overseas_country=e.get("overseas_country", ""),
            address=e["address"],
            email=f"hr@{e['key']}.example.com",
        )
        work_injury_rating_set(
            actor=SYSTEM,
            employer=emp,
            industry_class=e["class"],
            grade=e["grade"],
            effective_from=date(today.year - 3, 1, 1),
        )
        employers[e["key"]] = emp

    nationalities = list(WEIGHTS)
    weights = [WEIGHTS[c] for c in nationalities]
    employer_keys = [e["key"] for e in EMPLOYERS]
    shares = [e["share"] for e in EMPLOYERS]
    passports: set[tuple[str, str]] = set()
    seq = 0
    accepted: list[Registration] = []
    for plan in _plans(rng, n, today):
        key = rng.choices(employer_keys, shares)[0]
        if key == "rheinland":
            nat = "DEU" if rng.random() < 0.8 else rng.choice(["AUT", "CHE", "NLD"])
        elif key == "hanbit":
            nat = "KOR" if rng.random() < 0.7 else rng.choices(nationalities, weights)[0]
        else:
            nat = rng.choices(nationalities, weights)[0]
        family_names, male, female, cities = NAMES.get(nat, NAMES["DEU"])
        sex = rng.choice(["male", "female"])
        given = rng.choice(male if sex == "male" else female)
        family = rng.choice(family_names)
        number = _passport(rng, nat)
        while (nat, number) in passports:
            number = _passport(rng, nat)
        passports.add((nat, number))
        birth = date(rng.randint(1963, 1999), rng.randint(1, 12), rng.randint(1, 28))
        seq += 1
        issued = plan.permit_issued
        start = issued + timedelta(days=rng.randint(0, 14))
        employer = employers[key]
        seconded = key == "rheinland" and rng.random() < 0.7
        wage = rng.randrange(18_000, 95_000, 500) * 100
        # ASCII: an address like ramírez@… is refused (Django's EmailValidator; few servers take it)
        handle = (
            unicodedata.normalize("NFKD", f"{given}.{family}".lower())
            .encode("ascii", "ignore")
            .decode()
            .replace(" ", "")
            .replace("'", "")
        )
        data = HireData(
            person=PersonData(
                family_name=family,
                given_names=given,
                sex=sex,
                birth_date=birth,
                nationality=nat,
                passport_number=number,
                email=f"{handle}{seq}@mail.example.com",
                phone=f"+86 13{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                address_abroad=f"{rng.randint(1, 200)} Demo Street, {rng.choice(cities)}",
                preferred_language=Language.ZH if rng.random() < 0.15 else Language.EN,
            ),
            permit_kind=DocumentKind.INTEGRATED_CARD
            if issued >= INTEGRATED_CARD_FROM
            else DocumentKind.WORK_PERMIT,
            permit_number=f"{employer.region_code}{issued.year}{seq:08d}",
            permit_issued_on=issued,
            permit_valid_to=min(today + timedelta(days=rng.randint(90, 900)), issued + FIVE_YEARS),
            residence_permit_number=f"E{rng.randint(10, 99)}{seq:06d}",
            residence_permit_issued_on=(
                residence_issued := min(issued + timedelta(days=rng.randint(7, 25)), today)
            ),
            residence_permit_valid_to=min(
                today
                + timedelta(
                    days=rng.randint(0, 30) if rng.random() < 0.08 else rng.randint(31, 800)
                ),
                residence_issued + FIVE_YEARS,
            ),
            start_date=start,
            position=rng.choice(
                POSITIONS if key != "rheinland" else [*POSITIONS[:6], "Chief Representative"]
            ),
            contract_wage=wage,
            seconded_by=employer.overseas_company if seconded else "",
            seconded_by_country=employer.overseas_country if seconded else "",
        )
        pending = plan.state == "submitted" and seq % 7 == 0 and issued >= INTEGRATED_CARD_FROM
        data = _card_for_hire(rng, employer, data, today, pending=pending)
        reg = hire_register(actor=SYSTEM, employer=employer, data=data)
        if plan.state in ("accepted", "accepted_late"):
            delay = rng.randint(31, 75) if plan.state == "accepted_late" else rng.randint(2, 28)
            reg = registration_accept(
                actor=SYSTEM,
                registration_id=reg.pk,
                registered_on=min(issued + timedelta(days=delay), today),
            )
            accepted.append(reg)

    _history(rng, today, accepted, employers, seq)
    _certificates(rng, today, accepted)
    _users(employers, accepted, password)
    _cards(rng, today, accepted)
    leaving = departures.leavers(today, accepted)
    retired = benefits_more.retire(today, accepted, leaving)
    _bills(today, employers)
    departures.applications(today, leaving, password)
    # deaths, pensions and benefit programmes (demo/benefits_more.py)
    benefits_more.stories(today, accepted, retired, leaving, password)

    run_daily(today)
    load_compliance(today)
    result.counts = {
        "employers": Employer.objects.filter(uscc__in=usccs.values()).count(),
        "people": Person.objects.count(),
        "registrations": Registration.objects.count(),
        "accepted": Registration.objects.filter(status=RegistrationStatus.ACCEPTED).count(),
    }


def _history(
    rng: random.Random,
    today: date,
    accepted: list[Registration],
    employers: dict[str, Employer],
    seq: int,
) -> None:
    """Pay rises (effective-dated employment changes) and a few people who moved to Shanghai,
    keeping their social security number."""
    long_serving = [r for r in accepted if r.insurance_start < today - timedelta(days=500)]
    for reg in long_serving[:12]:
        on = reg.insurance_start + timedelta(days=rng.randint(200, 400))
        employment_change(
            actor=SYSTEM,
            employment_id=reg.employment_id,
            on=on,
            contract_wage=reg.employment.contract_wage + rng.randrange(2_000, 10_000, 500) * 100,
        )
    movers = [
        r
        for r in long_serving[12:]
        if r.employer.region_code == "110000" and r.employment.end_date is None
    ][:3]
    for reg in movers:
        last_day = today - timedelta(days=rng.randint(150, 250))
        employment_end(actor=SYSTEM, employment_id=reg.employment_id, on=last_day)
        person = reg.person
        for card in Card.objects.filter(person=person, status=CardStatus.ACTIVE):
            leaving = cards.card_deregister_request(
                actor=SYSTEM, card_id=card.pk, reason="contract_ended", end_date=last_day
            )
            cards.application_decide(actor=SYSTEM, application_id=leaving.pk, approve=True)
        passport = person.passports.get(is_current=True)
        seq += 1
        issued = last_day + timedelta(days=5)
        moved = _card_for_hire(
            rng,
            employers["pujiang"],
            HireData(
                person=PersonData(
                    family_name=person.family_name,
                    given_names=person.given_names,
                    sex=person.sex,
                    birth_date=person.birth_date,
                    nationality=person.nationality,
                    passport_number=passport.number,
                    passport_country=passport.country,
                ),
                permit_kind=DocumentKind.INTEGRATED_CARD
                if issued >= INTEGRATED_CARD_FROM
                else DocumentKind.WORK_PERMIT,
                permit_number=f"310000{issued.year}{seq:08d}",
                permit_issued_on=issued,
                permit_valid_to=today + timedelta(days=rng.randint(300, 900)),
                start_date=issued + timedelta(days=3),
                position=reg.employment.position,
                contract_wage=reg.employment.contract_wage,
            ),
            today,
        )
        again = hire_register(actor=SYSTEM, employer=employers["pujiang"], data=moved)
        registration_accept(
            actor=SYSTEM, registration_id=again.pk, registered_on=issued + timedelta(days=10)
        )


def _certificates(rng: random.Random, today: date, accepted: list[Registration]) -> None:
    holders = [r for r in accepted if r.person.nationality in AGREEMENT_IN_FORCE][:10]
    for i, reg in enumerate(holders):
        start = reg.insurance_start
        valid_to = (
            today + timedelta(days=rng.randint(3, 28)) if i < 4 else start + timedelta(days=5 * 365)
        )
        valid_to = max(valid_to, start)
        certificate_add(
            actor=SYSTEM,
            person=reg.person,
            number=f"{reg.person.nationality}-{start.year}-{reg.pk:06d}",
            country=reg.person.nationality,
            valid_from=start,
            valid_to=valid_to,
        )


def _users(employers: dict[str, Employer], accepted: list[Registration], password: str) -> None:
    _user("agency-admin", password, email="agency-admin@example.invalid", superuser=True)
    AgencyStaff.objects.get_or_create(
        user=_user("agency-officer", password, email="officer@example.invalid"),
        defaults={"regions": ""},
    )
    AgencyStaff.objects.get_or_create(
        user=_user("agency-shanghai", password, email="shanghai@example.invalid"),
        defaults={"regions": "310000"},
    )
    for key, employer in employers.items():
        hr_user_add(
            actor=SYSTEM,
            employer=employer,
            username=f"hr-{key}",
            email=f"hr-{key}@example.invalid",
            password=password,
        )
    picked: list[Person] = []
    for nat in ("DEU", "JPN"):
        reg = next(
            (r for r in accepted if r.person.nationality == nat and r.person.user_id is None), None
        )
        if reg is not None:
            picked.append(reg.person)
    for i, person in enumerate(picked, 1):
        user = _user(f"employee-{i}", password, email=person.email)
        Person.objects.filter(pk=person.pk).update(user=user)


def _authenticators(key: str) -> None:
    """Demo only: the agency users sign in with a second step like real agency staff, all with the
    one published key (replacing any authenticator a tester enrolled meanwhile)."""
    for user in get_user_model().objects.filter(username__in=AGENCY_DEMO_USERS):
        TOTPDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.create(user=user, name="Demo authenticator", key=key, confirmed=True)


def _cards(rng: random.Random, today: date, accepted: list[Registration]) -> None:
    """Card work after the hires: a few change applications for the agency's queue (the first
    applications awaiting a decision came with the hires that rest on them)."""
    for i, reg in enumerate(accepted):
        if i % 17:
            continue
        card = Card.objects.filter(
            person=reg.person, employer=reg.employer, status=CardStatus.ACTIVE, legacy=False
        ).first()
        if card is None:
            continue
        cards.card_change_request(
            actor=SYSTEM,
            card_id=card.pk,
            changes={"position": _promoted(card.position)},
            change_date=today - timedelta(days=rng.randint(0, 8)),
        )


def _card_for_hire(
    rng: random.Random, employer: Employer, data: HireData, today: date, *, pending: bool = False
) -> HireData:
    """A hire records the person's card on file: bring it there first, as issued on
    ``data.permit_issued_on`` (an older physical permit as the agency imports it; an Integrated
    Card through its application, decision and entry, then dated back to its issue day, since the
    demo's history happened before the system), and name it on the hire. ``pending``: the card is
    only applied for, and the hire names the application."""
    person, _ = person_find_or_create(actor=SYSTEM, data=data.person)
    issued = data.permit_issued_on or today
    valid_to = data.permit_valid_to or today + timedelta(days=365)
    category = rng.choices(["A", "B", "C"], [2, 7, 1])[0]
    if data.permit_kind == DocumentKind.WORK_PERMIT:
        card = cards.legacy_permit_import(
            actor=SYSTEM,
            permit=cards.LegacyPermit(
                permit_number=data.permit_number,
                person=person,
                employer=employer,
                category=category,
                position=data.position,
                valid_from=issued,
                valid_to=valid_to,
            ),
        )
        return replace(data, permit_number=card.permit_number)
    app = cards.card_apply(
        actor=SYSTEM,
        employer=employer,
        person=person,
        category=category,
        position=data.position,
        valid_to=valid_to,
    )
    if pending:
        # Work may not start before the permit is issued, and an application's document is dated
        # the day it was filed (in Beijing): the hire on it starts that day at the earliest.
        filed = timezone.localdate(Card.objects.get(pk=app.card_id).created_at)
        return replace(data, permit_number=f"A{app.pk}", start_date=max(data.start_date, filed))
    cards.application_decide(actor=SYSTEM, application_id=app.pk, approve=True)
    # the notice is dated when it is approved: past midnight in Beijing that is the next day
    noticed = Card.objects.get(pk=app.card_id).notice_issued_on or today
    cards.card_record_entry(actor=SYSTEM, card_id=app.card_id, entry_date=max(today, noticed))
    Card.objects.filter(pk=app.card_id).update(
        notice_issued_on=issued, valid_from=issued, entry_date=issued
    )
    card = Card.objects.get(pk=app.card_id)
    return replace(data, permit_number=card.card_number or "")


def _bills(today: date, employers: dict[str, Employer]) -> None:
    """Three months of bills per region; most paid on time, one employer late (late fees accrue)."""

    last = Month.of(today).plus(-1)
    months = [last.plus(-2), last.plus(-1), last]
    for code in sorted({e.region_code for e in employers.values()}):
        for month in months:
            try:
                billing_run(actor=SYSTEM, region_code=code, month=month)
            except RuleError:
                continue  # no policy on file for that month
    late = employers.get("pujiang")
    for employer in employers.values():
        for bill in Bill.objects.filter(employer=employer).order_by("month"):
            if bill.due_date > today or bill.total <= 0:
                continue
            if employer == late and bill.month == str(months[-1]):
                continue  # unpaid: arrears with a late fee
            paid_on = bill.due_date if employer != late else bill.due_date + timedelta(days=12)
            payment_record(
                actor=SYSTEM,
                employer=employer,
                amount=bill.total,
                received_on=min(paid_on, today),
                reference=bill.number,
            )


def _logins() -> list[Login]:
    logins = [
        Login("agency staff, all regions (superuser, also /admin/)", "agency-admin"),
        Login("agency staff, all regions", "agency-officer"),
        Login("agency staff, Shanghai only", "agency-shanghai"),
    ]
    for e in EMPLOYERS:
        logins.append(Login(f"HR of {e['name']}", f"hr-{e['key']}"))
    for person in (
        Person.objects.filter(user__username__startswith="employee-")
        .select_related("user")
        .order_by("user__username")
    ):
        assert person.user is not None
        logins.append(
            Login(
                f"foreign employee {person.full_name} ({person.nationality})", person.user.username
            )
        )
    return logins
