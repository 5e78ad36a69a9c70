"""The card application form's searchable pickers (issue 13): an employer with thousands of staff,
or agency staff with a million people, find the person by typing part of a name, a document number
or a social security number. What a user relies on: they see only the people they may apply for,
at most 20 at a time, in their language; the form works without a script (search, choose,
submit); a search that shows people is audited; the answer costs the same few queries however
many people there are, and comes from an index, not a read of every row."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from expatsi.audit.models import AuditEvent
from expatsi.cards.models import CardApplication
from expatsi.people.models import Person
from expatsi.people.search import person_match
from expatsi.portal.labels import audit_action
from tests.api.conftest import World
from tests.factories import EmployerFactory, EmploymentFactory

from .helpers import today

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PEOPLE = "/cards/apply/people/"


def option_ids(html: str) -> list[int]:
    return [
        int(v) for v in re.findall(r'role="option" id="person-option-\d+" data-value="(\d+)"', html)
    ]


def staff(world: World, n: int, family: str = "Smithers") -> list[Person]:
    """``n`` more people employed by A, none with a card: all candidates for a first card."""
    return [
        EmploymentFactory(
            employer=world.a, person__family_name=f"{family}{i:02d}", person__given_names="Ann"
        ).person
        for i in range(n)
    ]


# --- who sees whom ------------------------------------------------------------------------------


def test_search_is_scoped_to_the_people_the_role_may_apply_for(world: World) -> None:
    # pa2 (Smith John) works for A and has no card; pa and pb have cards on file (not candidates)
    r = world.client("hr_a").get(PEOPLE, {"q": "smi"})
    assert r.status_code == 200 and option_ids(r.content.decode()) == [world.pa2.pk]
    assert "SMITH John" in r.content.decode() and r["Cache-Control"] == "private, no-store"
    # HR of another employer: nothing of A's people, whatever they type or name
    for params in ({"q": "smi"}, {"q": "561234987"}, {"q": "smi", "employer": world.a.pk}):
        r = world.client("hr_b").get(PEOPLE, params)
        assert r.status_code == 200 and option_ids(r.content.decode()) == [], params
        assert "SMITH" not in r.content.decode()
    # agency of every region: found; of Shanghai only: not (A is in Beijing)
    assert option_ids(world.client("agency").get(PEOPLE, {"q": "Smi"}).content.decode()) == [
        world.pa2.pk
    ]
    assert option_ids(world.client("agency_sh").get(PEOPLE, {"q": "Smi"}).content.decode()) == []
    # a holder and another employee may not apply: refused; nobody signed in: to the login page
    assert world.client("self").get(PEOPLE, {"q": "smi"}).status_code == 403
    assert world.client("other").get("/cards/apply/employers/", {"q": "R"}).status_code == 403
    r = world.client("anon").get(PEOPLE, {"q": "smi"})
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_people_are_found_by_name_document_ssn_or_whole_passport_number(world: World) -> None:
    hr = world.client("hr_a")
    person = world.pa2
    Person.objects.filter(pk=person.pk).update(ssn="P11000019900630123")  # as on registration
    person.refresh_from_db()

    def found(q: str) -> list[int]:
        return option_ids(hr.get(PEOPLE, {"q": q}).content.decode())

    assert found("SMITH J") == [person.pk]  # family name, then given names
    assert found("john smi") == [person.pk]  # given names, then family name
    assert found("jo") == [person.pk]
    assert found(person.ssn[:6]) == [person.pk]  # the start of the social security number
    assert found("e1100000") == [person.pk]  # the start of the residence permit's number
    assert found("561234987") == [person.pk]  # the whole passport number (stored encrypted)
    assert found("5612349") == []  # not a start of it: passport numbers are never shown or guessed
    assert found("mith") == []  # a start, not a middle
    assert found("s") == []  # one Latin letter is too little to search


def test_a_chinese_name_is_found_from_one_character(world: World) -> None:
    Person.objects.filter(pk=world.pa2.pk).update(chinese_name="史密斯")
    r = world.client("hr_a").get(f"/zh-hans{PEOPLE}", {"q": "史"})
    html = r.content.decode()
    assert option_ids(html) == [world.pa2.pk]
    assert 'data-status="1 个匹配。"' in html


def test_at_most_twenty_are_shown_and_the_rest_is_said(world: World) -> None:
    people = staff(world, 25)
    r = world.client("hr_a").get(PEOPLE, {"q": "smithers"})
    html = r.content.decode()
    expected = sorted(people, key=lambda p: (p.family_name, p.given_names, p.pk))[:20]
    assert option_ids(html) == [p.pk for p in expected]
    assert 'data-status="The first 20 matches; type more to narrow them."' in html
    zh = world.client("hr_a").get(f"/zh-hans{PEOPLE}", {"q": "smithers"}).content.decode()
    assert "前 20 个匹配" in zh
    assert option_ids(world.client("hr_a").get(PEOPLE, {"q": "smithers0"}).content.decode()) == [
        p.pk for p in expected[:10]
    ]
    one = world.client("hr_a").get(PEOPLE, {"q": "smithers24"}).content.decode()
    assert 'data-status="1 match."' in one
    none = world.client("hr_a").get(PEOPLE, {"q": "zz"}).content.decode()
    assert 'data-status="No matches. Check the spelling or type less."' in none


def test_a_search_that_shows_people_is_audited_with_whom_it_showed(world: World) -> None:
    hr = world.client("hr_a")
    before = AuditEvent.objects.filter(action="person.search").count()
    hr.get(PEOPLE, {"q": "smi"})
    event = AuditEvent.objects.filter(action="person.search").latest("pk")
    assert event.detail["shown"] == [world.pa2.pk] and event.actor_user_id == world.users["hr_a"].pk
    assert AuditEvent.objects.filter(action="person.search").count() == before + 1
    hr.get(PEOPLE, {"q": "zz"})  # showed no one: nothing to record
    world.client("hr_b").get(PEOPLE, {"q": "smi"})
    assert AuditEvent.objects.filter(action="person.search").count() == before + 1
    # the audit trail names the action in words, in both languages
    assert audit_action("person.search") == "People searched"
    with translation.override("zh-hans"):
        assert audit_action("person.search") == "搜索人员"


def test_the_person_picker_keeps_to_the_chosen_employer(world: World) -> None:
    other = EmploymentFactory(employer=world.b, person__family_name="Smithson").person
    agency = world.client("agency")
    both = option_ids(agency.get(PEOPLE, {"q": "smith"}).content.decode())
    assert set(both) == {world.pa2.pk, other.pk}
    only_a = option_ids(agency.get(PEOPLE, {"q": "smith", "employer": world.a.pk}).content.decode())
    assert only_a == [world.pa2.pk]
    r = agency.get(PEOPLE, {"q": "smith", "employer": "999999"})
    assert r.status_code == 200 and option_ids(r.content.decode()) == []


def test_the_employer_picker_offers_only_employers_one_may_apply_for(world: World) -> None:
    html = world.client("agency_sh").get("/cards/apply/employers/", {"q": "co"}).content.decode()
    assert f'data-value="{world.b.pk}"' in html and f'data-value="{world.a.pk}"' not in html
    html = world.client("hr_a").get("/cards/apply/employers/", {"q": "sakura"}).content.decode()
    assert 'role="option"' not in html


# --- the form without a script ------------------------------------------------------------------


def _application(world: World, person: Person, **extra: object) -> dict[str, object]:
    return {
        "employer": str(world.a.pk),
        "person": str(person.pk),
        "category": "B",
        "position": "Test engineer",
        "valid_to": (today() + timedelta(days=700)).isoformat(),
        "passport_scan": SimpleUploadedFile("p.pdf", PDF),
        "labour_contract": SimpleUploadedFile("c.pdf", PDF),
        **extra,
    }


@pytest.mark.parametrize("prefix", ["", "/zh-hans"])
def test_without_a_script_search_choose_and_submit(world: World, prefix: str) -> None:
    people = staff(world, 30)
    target = people[25]  # not among the first 20 by name
    hr = world.client("hr_a")
    page = hr.get(f"{prefix}/cards/apply/").content.decode()
    assert 'name="person_q"' in page and 'name="find"' in page and "cards/picker.js" in page
    assert ("查找外籍员工" if prefix else "Find the foreign employee") in page
    assert f'<option value="{target.pk}"' not in page  # the first 20 by name, not all 31
    # "Find" sends the form back: what was typed is kept, the select holds the matches
    r = hr.post(
        f"{prefix}/cards/apply/",
        {"find": "person", "person_q": target.family_name, "position": "Welder", "category": "B"},
    )
    html = r.content.decode()
    assert r.status_code == 200 and 'class="error-summary"' not in html
    assert re.findall(
        r'<option value="(\d+)"', html.split('id="id_person"')[1].split("</select>")[0]
    ) == [str(target.pk)]
    assert 'value="Welder"' in html
    assert ("1 个匹配" if prefix else "1 match.") in html
    # … choose and send
    r = hr.post(f"{prefix}/cards/apply/", _application(world, target, person_q=target.family_name))
    assert r.status_code == 302, r.content.decode()[:3000]
    assert CardApplication.objects.filter(card__person=target, card__employer=world.a).exists()
    # the same address searched by GET (a link from elsewhere) works too
    r = hr.get(f"{prefix}/cards/apply/", {"person_q": people[3].family_name})
    assert f'<option value="{people[3].pk}"' in r.content.decode()


def test_a_person_of_another_employer_is_refused_on_the_person_field(world: World) -> None:
    # HR of A naming B's person (say, a forged post): refused on the field, nothing filed
    other = EmploymentFactory(employer=world.b, person__family_name="Suzuki").person
    r = world.client("hr_a").post("/cards/apply/", _application(world, other))
    html = r.content.decode()
    assert r.status_code == 400 and 'id="id_person_error"' in html
    assert "Choose a person the employer employs" in html and "Suzuki".upper() not in html
    # agency staff may see both, but the person must work for the employer chosen
    r = world.client("agency").post("/cards/apply/", _application(world, other))
    assert r.status_code == 400 and 'id="id_person_error"' in r.content.decode()
    zh = world.client("agency").post("/zh-hans/cards/apply/", _application(world, other))
    assert zh.status_code == 400 and "请选择" in zh.content.decode()
    assert not CardApplication.objects.filter(card__person=other).exists()
    # chosen from the picker (not among the first 20 on the page): accepted
    r = world.client("agency").post("/cards/apply/", _application(world, world.pa2))
    assert r.status_code == 302


# --- at volume ----------------------------------------------------------------------------------


def _count(world: World, n: int) -> int:
    staff(world, n, family=f"Vol{n}x")
    client = world.client("agency")
    client.get(PEOPLE, {"q": f"vol{n}"})  # warm: session, sites, translations
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(PEOPLE, {"q": f"vol{n}"})
    assert len(option_ids(r.content.decode())) == min(n, 20)
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_people_found(world: World) -> None:
    assert _count(world, 3) == _count(world, 30)


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("smi", "person_family_prefix"),
        ("smith jo", "person_given_prefix"),
        ("史", "person_chinese_prefix"),
    ],
)
def test_a_name_search_is_answered_from_an_index(world: World, query: str, index: str) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the plan checked here is SQLite's")
    qs = Person.objects.filter(person_match(query)).order_by("family_name")[:21]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert index in plan, plan
    assert "SCAN people_person" not in plan, plan  # not a read of every row (nor index entry)


def test_letters_beyond_ascii_are_found_in_either_case(world: World) -> None:
    mueller = EmploymentFactory(employer=world.a, person__family_name="Müller").person
    hr = world.client("hr_a")
    for typed in ("mü", "Mü", "MÜ", "müll"):
        assert option_ids(hr.get(PEOPLE, {"q": typed}).content.decode()) == [mueller.pk], typed


# --- the API (for HR systems) ---------------------------------------------------------------------


def test_the_api_answers_the_same_people_as_the_picker(world: World) -> None:
    url = "/api/v1/cards/applications/candidates"
    body = world.client("token_a").get(url, {"q": "smith j"}).json()
    assert body == [
        {
            "id": world.pa2.pk,
            "family_name": "Smith",
            "given_names": "John",
            "chinese_name": "",
            "ssn": None,
        }
    ]
    assert world.client("hr_b").get(url, {"q": "smi"}).json() == []
    r = world.client("hr_b").get(url, {"q": "smi", "employer_id": world.a.pk})
    assert r.status_code == 404 and r.json()["field"] == "employer_id"
    staff(world, 25)
    assert len(world.client("agency").get(url, {"q": "smi"}).json()) == 20
    assert world.client("self").get(url, {"q": "smi"}).status_code == 403


def test_agency_staff_without_a_script_find_the_employer_then_the_person(world: World) -> None:
    for _ in range(25):  # more employers than a select shows
        EmployerFactory()
    agency = world.client("agency")
    page = agency.get("/cards/apply/").content.decode()
    assert 'name="employer_q"' in page and "Find the employer" in page
    r = agency.post("/cards/apply/", {"find": "employer", "employer_q": "rheinmetall"})
    html = r.content.decode()
    employers = html.split('id="id_employer"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\d+)"', employers) == [str(world.a.pk)]
    # the employer chosen, the person searched among its staff only
    other = EmploymentFactory(employer=world.b, person__family_name="Smithson").person
    r = agency.post(
        "/cards/apply/",
        {"find": "person", "employer_q": "rheinmetall", "employer": world.a.pk, "person_q": "smi"},
    )
    people = r.content.decode().split('id="id_person"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\d+)"', people) == [str(world.pa2.pk)]
    assert str(other.pk) not in people
