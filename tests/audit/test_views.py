"""The audit viewer: agency staff only, filters, pagination, chain status, region scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from expatsi.access.actors import SYSTEM, actor_for_user
from expatsi.audit.models import AuditEvent
from expatsi.audit.services import audit_record
from expatsi.insurance.selectors import person_get
from tests.audit.tamper import as_owner, sql
from tests.notify.factories import agency_user, employer, hire, hr_user
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db
URL = "/audit/"


def logged_in(user):
    client = Client()
    verified_login(client, user)
    return client


@pytest.fixture
def world():
    bj = employer("110000", "Beijing Co.")
    sh = employer("310000", "Shanghai Co.")
    today = timezone.localdate()
    bj_reg = hire(bj, permit_issued=today - timedelta(days=5), family="Peking")
    sh_reg = hire(sh, permit_issued=today - timedelta(days=5), family="Huangpu")
    return {
        "bj": bj,
        "sh": sh,
        "bj_person": bj_reg.person,
        "sh_person": sh_reg.person,
        "agency": agency_user("officer"),
        "shanghai": agency_user("officer-sh", "310000"),
        "hr": hr_user(bj, "hr-bj"),
    }


def test_url_name():
    with translation.override("en"):
        assert reverse("audit:list") == URL


def test_anonymous_is_sent_to_login():
    r = Client().get(URL)
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("login"))


def test_only_agency_staff_may_look(world):
    assert logged_in(world["hr"]).get(URL).status_code == 403
    employee = User.objects.create_user("emp")
    world["bj_person"].user = employee
    world["bj_person"].save(update_fields=["user"])
    assert logged_in(employee).get(URL).status_code == 403
    nobody = User.objects.create_user("nobody")
    assert logged_in(nobody).get(URL).status_code == 403
    assert logged_in(world["agency"]).get(URL).status_code == 200
    admin = User.objects.create_superuser("root", "root@example.invalid", None)
    assert logged_in(admin).get(URL).status_code == 200


def test_shows_events_and_an_intact_chain(world):
    r = logged_in(world["agency"]).get(URL)
    html = r.content.decode()
    assert "Chain intact" in html
    assert "person.create" in html and "registration.submit" in html
    assert r.context["list"].count == AuditEvent.objects.count()


def test_filters(world):
    client = logged_in(world["agency"])
    pid = world["bj_person"].pk
    person_get(actor=actor_for_user(world["agency"]), person_id=pid)  # a read, by "officer"
    # By name, as a clerk knows the person (not by an internal id).
    by_person = client.get(URL, {"person": "peking"}).context["list"].rows
    assert by_person and {e.person_id for e in by_person} == {pid}
    by_passport = client.get(URL, {"person": world["bj_person"].passports.get().number})
    assert {e.person_id for e in by_passport.context["list"].rows} == {pid}
    by_action = client.get(URL, {"action": "person"}).context["list"].rows
    assert {e.action for e in by_action} == {"person.create", "person.document", "person.read"}
    exact = client.get(URL, {"action": "person.read"}).context["list"].rows
    assert [e.action for e in exact] == ["person.read"]
    by_actor = client.get(URL, {"actor": "officer"}).context["list"].rows
    assert [e.action for e in by_actor] == ["person.read"]
    by_id = client.get(URL, {"actor": str(world["agency"].pk)}).context["list"].rows
    assert [e.action for e in by_id] == ["person.read"]
    today = timezone.localdate()
    assert client.get(URL, {"date_from": today.isoformat()}).context["list"].count > 0
    future = (today + timedelta(days=1)).isoformat()
    assert client.get(URL, {"date_from": future}).context["list"].count == 0
    assert client.get(URL, {"date_to": date(2000, 1, 1).isoformat()}).context["list"].count == 0


def test_bad_filter_input_is_answered_next_to_the_field(world):
    r = logged_in(world["agency"]).get(
        URL, {"person": "x" * 101, "date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert r.status_code == 200
    assert r.context["list"].count == 0
    assert "person" in r.context["form"].errors and "date_to" in r.context["form"].errors
    assert 'class="error-message" id="id_date_to-error"' in r.content.decode()


def test_pagination_keeps_the_filters(world):
    for i in range(60):
        audit_record(actor=SYSTEM, action="test.bulk", object_type="thing", object_id=i)
    client = logged_in(world["agency"])
    first = client.get(URL, {"action": "test"})
    assert first.context["list"].count == 60 and first.context["list"].has_next
    assert "action=test&amp;sort=-id&amp;page=2" in first.content.decode()
    second = client.get(URL, {"action": "test", "page": 2})
    assert len(second.context["list"].rows) == 10


def test_a_tampered_event_breaks_the_chain(world):
    victim = AuditEvent.objects.order_by("id")[2]
    with as_owner():
        AuditEvent.objects.filter(pk=victim.pk).update(detail={"forged": True})
    r = logged_in(world["agency"]).get(URL)
    assert "Chain broken" in r.content.decode()
    assert r.context["broken_at"] == victim.pk


def test_regional_staff_see_only_their_regions(world):
    client = logged_in(world["shanghai"])
    people = {e.person_id for e in client.get(URL).context["list"].rows if e.person_id}
    assert people == {world["sh_person"].pk}
    employers = {e.object_id for e in AuditEvent.objects.filter(object_type="employer")}
    shown = {e.object_id for e in client.get(URL, {"action": "employer"}).context["list"].rows}
    assert shown == {str(world["sh"].pk)} and employers > shown
    assert client.get(URL, {"person": "peking"}).context["list"].count == 0


def test_newest_events_removed_after_a_visit_are_reported_on_the_next(world):
    client = logged_in(world["agency"])
    assert "Chain intact" in client.get(URL).content.decode()  # the visit signs the head
    newest = AuditEvent.objects.order_by("-id")[0]
    sql("DELETE FROM audit_auditevent WHERE id = %s", [newest.pk])
    r = client.get(URL)
    html = r.content.decode()
    assert "Chain broken" in html and "events have been removed" in html
    assert r.context["broken_at"] == newest.pk and r.context["problem"] == "removed"
