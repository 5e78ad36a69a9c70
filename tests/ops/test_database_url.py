"""DATABASE_URL, as parsed since dj-database-url does it: what deployments already set still means
the same connection."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from expatsi.settings import database_from_url


def test_postgresql_url_with_options(monkeypatch):
    monkeypatch.setenv("EXPATSI_DB_CONN_MAX_AGE", "30")
    config = database_from_url(
        "postgresql://expatsi:p%40ss%2Fword@db.internal:5433/expatsi?sslmode=verify-full&connect_timeout=5"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == (
        "expatsi",
        "expatsi",
        "p@ss/word",
    )
    assert (config["HOST"], config["PORT"]) == ("db.internal", "5433")
    assert config["OPTIONS"] == {"sslmode": "verify-full", "connect_timeout": 5}
    assert config["CONN_MAX_AGE"] == 30
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize("scheme", ["postgres", "pgsql"])
def test_postgresql_aliases(scheme):
    config = database_from_url(f"{scheme}://u@localhost/db")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["PORT"], config["OPTIONS"]) == ("db", "", {})


@pytest.mark.parametrize("scheme", ["sqlite", "sqlite3"])
def test_sqlite_absolute_path(tmp_path, scheme):
    path = tmp_path / "sub" / "x.sqlite3"
    config = database_from_url(f"{scheme}:///{path}")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(path)
    assert path.parent.is_dir()  # made, so that SQLite can create the file
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_sqlite_relative_path_is_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert database_from_url("sqlite:///data/x.sqlite3")["NAME"] == "data/x.sqlite3"
    assert (tmp_path / "data").is_dir()


def test_other_databases_are_refused():
    with pytest.raises(ImproperlyConfigured, match="use postgresql:// or sqlite:///"):
        database_from_url("mysql://u:p@localhost/db")
