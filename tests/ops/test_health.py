"""Liveness (/healthz) and readiness (/readyz): what a process manager and a load balancer see."""

from __future__ import annotations

import json
import socket

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from expatsi import health
from tests.ops.production import manage


def test_healthz_answers_without_the_database(client):
    r = client.get("/healthz")  # no django_db mark: any query would raise
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert "no-cache" in r["Cache-Control"]  # never a stale answer from a cache in between


@pytest.mark.django_db
def test_readyz_answers_ok_when_the_schema_is_migrated(client, monkeypatch):
    monkeypatch.setattr(health, "_schema_current", False)  # really look, whatever ran before
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert "no-cache" in r["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_is_pending(client, monkeypatch):
    monkeypatch.setattr(health, "_schema_current", False)
    # The newest billing migration as if the code had been upgraded and `migrate` not run yet
    # (the row comes back when the test's transaction is rolled back).
    leaf = max(n for a, n in MigrationLoader(connection).graph.leaf_nodes() if a == "billing")
    MigrationRecorder(connection).record_unapplied("billing", leaf)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "reason": "migrations_pending"}
    assert leaf not in r.content.decode()
    MigrationRecorder(connection).record_applied("billing", leaf)
    assert client.get("/readyz").status_code == 200  # ready as soon as migrate has run


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_only_read(client, path):
    assert client.head(path).status_code == 200
    assert client.post(path).status_code == 405


@pytest.mark.django_db
def test_liveness_answers_a_session_midway_through_sign_in(client, django_user_model):
    """Agency staff who gave the password but not yet the second step are held on that step
    everywhere else; the liveness probe still answers (it is not a page)."""
    user = django_user_model.objects.create_user("probe-staff", password="x", is_staff=True)
    client.force_login(user)  # the password step only: no authenticator yet
    assert client.get("/").status_code == 302  # held on the second step
    assert client.get("/healthz").status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PROBE = """
import json
from django.test import Client
c = Client()  # plain HTTP, as a probe on the machine or from the load balancer sends it
out = {}
for path in ("/healthz", "/readyz"):
    r = c.get(path)
    out[path] = {"status": r.status_code, "body": r.content.decode(), "location": r.get("Location")}
print(json.dumps(out))
"""


def test_in_production_without_a_database_alive_but_not_ready(tmp_path):
    """Production settings (HTTPS redirect on), PostgreSQL down: /healthz still says the process
    lives, /readyz answers 503 with a reason code and nothing about the installation."""
    url = (
        f"postgresql://expatsi:probe-pw-4711@127.0.0.1:{_free_port()}/expatsi_db?connect_timeout=3"
    )
    done = manage("shell", "-c", PROBE, DATABASE_URL=url, EXPATSI_VAR_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["/healthz"] == {"status": 200, "body": '{"status": "ok"}', "location": None}
    assert out["/readyz"]["status"] == 503, out  # not a redirect to HTTPS, not a 500
    assert json.loads(out["/readyz"]["body"]) == {
        "status": "unavailable",
        "reason": "database_unreachable",
    }
    assert "database is unreachable" in done.stderr  # the operator finds the cause in the log
