"""Administration in the portal: agency administrators register employers (USCC checked), grant
HR access by invitation only and revoke it, and set agency staff's regions — each audited, each
asked of ``employers.permissions``."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from expatsi.access.actors import Actor, actor_for_user
from expatsi.access.models import AgencyStaff
from expatsi.audit.models import AuditEvent
from expatsi.employers import permissions
from expatsi.employers.models import Employer, HrInvitation, HrMembership
from tests.portal.factories import make_agency, make_employer, make_hr, uscc
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


def admin_user(username: str = "admin", regions: str = ""):
    user = make_agency(username, regions=regions)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def logged_in(user) -> Client:
    c = Client()
    verified_login(c, user)
    return c


def test_policy_only_administrators_and_staff_regions_only_for_every_region() -> None:
    officer = Actor("agency", 1, "officer")
    admin = Actor("agency", 2, "admin", admin=True)
    regional = Actor("agency", 3, "admin-bj", regions=frozenset({"110000"}), admin=True)
    hr = Actor("hr", 4, "hr", employer_ids=frozenset({1}), admin=True)
    assert not permissions.may_administer(officer)
    assert permissions.may_administer(admin) and permissions.may_administer(regional)
    assert not permissions.may_administer(hr)
    assert permissions.may_create_employer(regional, "110000")
    assert not permissions.may_create_employer(regional, "310000")
    assert permissions.may_set_staff_regions(admin)
    assert not permissions.may_set_staff_regions(regional)


def test_the_admin_flag_comes_from_the_account() -> None:
    assert actor_for_user(admin_user()).admin
    assert not actor_for_user(make_agency("plain")).admin


def test_only_administrators_open_the_pages() -> None:
    employer = make_employer()
    assert logged_in(make_agency("plain")).get("/administration/").status_code == 403
    assert logged_in(make_hr(employer)).get("/administration/").status_code == 403
    page = logged_in(admin_user()).get("/administration/")
    assert page.status_code == 200
    assert employer.name in page.content.decode()
    assert logged_in(admin_user("zh-admin")).get("/zh-hans/administration/").status_code == 200
    # The menu offers the pages to administrators only.
    assert 'href="/administration/"' in logged_in(admin_user("menu")).get("/").content.decode()
    assert 'href="/administration/"' not in logged_in(make_agency("x")).get("/").content.decode()


def test_register_an_employer_checks_the_uscc_and_audits() -> None:
    c = logged_in(admin_user())
    data = {
        "name": "Nanjing Road Foods Co., Ltd.",
        "name_zh": "南京路食品有限公司",
        "uscc": "91310000ABCDEFGH1X",
        "region_code": "310000",
        "kind": "domestic",
    }
    bad = c.post("/administration/employers/new/", data)
    assert bad.status_code == 400
    assert "Not a valid unified social credit code." in bad.content.decode()
    good = uscc(700000001)
    r = c.post("/administration/employers/new/", {**data, "uscc": good})
    assert r.status_code == 302
    employer = Employer.objects.get(uscc=good)
    assert employer.name_zh == "南京路食品有限公司"
    assert AuditEvent.objects.filter(action="employer.create", object_id=str(employer.pk)).exists()
    again = c.post("/administration/employers/new/", {**data, "uscc": good})
    assert again.status_code == 400
    assert "already registered" in again.content.decode()


def test_a_regional_administrator_registers_only_in_their_region() -> None:
    c = logged_in(admin_user("admin-bj", regions="110000"))
    data = {"name": "X Co.", "uscc": uscc(700000002), "region_code": "310000", "kind": "domestic"}
    r = c.post("/administration/employers/new/", data)
    assert r.status_code == 400  # Shanghai is not a choice for them
    assert not Employer.objects.filter(uscc=data["uscc"]).exists()


def test_hr_grant_is_an_invitation_and_revoke_is_audited(
    django_capture_on_commit_callbacks,
) -> None:
    employer = make_employer()
    hr = make_hr(employer)
    c = logged_in(admin_user())
    page = c.get(f"/administration/employers/{employer.pk}/").content.decode()
    assert "hr" in page and "Revoke access" in page
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(
            f"/administration/employers/{employer.pk}/",
            {
                "email": "new.hr@example.com",
                "first_name": "Li",
                "last_name": "Na",
                "language": "zh-hans",
            },
        )
    assert r.status_code == 302
    invitation = HrInvitation.objects.get(employer=employer)
    assert invitation.email == "new.hr@example.com" and invitation.user is None
    assert len(mail.outbox) == 1 and "/zh-hans/invitations/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="employer.hr_invite").count() == 1
    membership = HrMembership.objects.get(user=hr, employer=employer)
    r = c.post(f"/administration/employers/{employer.pk}/hr/{membership.pk}/revoke/")
    assert r.status_code == 302
    membership.refresh_from_db()
    assert not membership.active
    assert AuditEvent.objects.filter(action="employer.hr_revoke").count() == 1
    assert actor_for_user(hr).kind != "hr"


def test_administrators_of_another_region_do_not_reach_the_employer() -> None:
    employer = make_employer()  # Beijing
    hr = make_hr(employer)
    membership = HrMembership.objects.get(user=hr)
    c = logged_in(admin_user("admin-sh", regions="310000"))
    assert c.get(f"/administration/employers/{employer.pk}/").status_code == 404
    r = c.post(f"/administration/employers/{employer.pk}/hr/{membership.pk}/revoke/")
    assert r.status_code == 404
    assert HrMembership.objects.get(pk=membership.pk).active


def test_staff_regions_are_set_by_an_administrator_of_every_region() -> None:
    officer = make_agency("officer-x")
    staff = AgencyStaff.objects.get(user=officer)
    c = logged_in(admin_user())
    assert f'id="staff-{staff.pk}"' in c.get("/administration/staff/").content.decode()
    r = c.post(f"/administration/staff/{staff.pk}/regions/", {f"s{staff.pk}-regions": ["310000"]})
    assert r.status_code == 302
    staff.refresh_from_db()
    assert staff.regions == "310000"
    event = AuditEvent.objects.get(action="access.staff_regions")
    assert event.detail["before"] == "*" and event.detail["after"] == "310000"
    bad = c.post(f"/administration/staff/{staff.pk}/regions/", {f"s{staff.pk}-regions": ["999999"]})
    assert bad.status_code == 302
    staff.refresh_from_db()
    assert staff.regions == "310000"
    regional = logged_in(admin_user("admin-bj", regions="110000"))
    assert regional.get("/administration/staff/").status_code == 403
    r = regional.post(f"/administration/staff/{staff.pk}/regions/", {})
    assert r.status_code == 403
