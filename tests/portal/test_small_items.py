"""Small visible things: the site icon is served by the app, administrators see a link to the
Django admin (others do not)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.portal.factories import make_agency, make_employer, make_hr
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


def test_the_app_serves_a_favicon_and_pages_link_it() -> None:
    r = Client().get("/favicon.ico")
    assert r.status_code == 200
    assert r["Content-Type"] == "image/svg+xml"
    assert r.content.startswith(b"<svg")
    # Pages link the icon among the static files, served before any middleware reads the session
    # or the database (a request per page view through the whole stack otherwise); /favicon.ico
    # stays for browsers that look there by themselves.
    page = Client().get("/").content.decode()
    [href] = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert href.startswith(settings.STATIC_URL) and href.endswith(".svg")


def test_administrators_see_a_link_to_the_admin() -> None:
    admin = make_agency("boss")
    admin.is_staff = True
    admin.is_superuser = True
    admin.save()
    page = verified_login(Client(), admin).get("/").content.decode()
    assert 'id="admin-link"' in page and 'href="/admin/"' in page
    officer = verified_login(Client(), make_agency("clerk")).get("/").content.decode()
    assert 'id="admin-link"' not in officer
    hr = verified_login(Client(), make_hr(make_employer())).get("/").content.decode()
    assert 'id="admin-link"' not in hr
