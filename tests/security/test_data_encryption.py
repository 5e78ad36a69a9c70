"""Passport numbers encrypted at rest: nothing readable in the table, lookups through the keyed
hash, key rotation with re-encryption, clear errors for missing or wrong keys, the migration."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps as django_apps
from django.core.exceptions import FieldError
from django.db import connection
from django.utils import timezone

from expatsi.access import crypto
from expatsi.access.actors import SYSTEM
from expatsi.cli import main
from expatsi.people.models import Passport, Person
from expatsi.people.services import PersonData, passport_replace, person_find_or_create
from expatsi.rules.errors import Conflict

NUMBER = "C01X00T47"
COUNTRIES = ("DEU", "FRA", "GBR", "USA", "JPN")


def data(number: str = NUMBER, *, family: str = "Schmidt", country: str = "") -> PersonData:
    return PersonData(
        family_name=family,
        given_names="Anna",
        sex="female",
        birth_date=date(1985, 3, 14),
        nationality="DEU",
        passport_number=number,
        passport_country=country,
    )


def raw_passports() -> list[tuple[Any, ...]]:
    """The table as stored, bypassing the model field."""
    with connection.cursor() as c:
        c.execute("SELECT id, number, number_hash FROM people_passport ORDER BY id")
        return list(c.fetchall())


@pytest.fixture
def own_keys(tmp_path: Path, settings: Any) -> Iterator[Path]:
    """A key directory of this test's own, set up as `expatsi data keys init` would."""
    directory = tmp_path / "keys"
    settings.EXPATSI_KEY_DIR = directory
    crypto.reset_caches()
    crypto.keys_init()
    yield directory
    crypto.reset_caches()


# --- at rest ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_table_holds_no_passport_number_in_plaintext() -> None:
    person, _ = person_find_or_create(actor=SYSTEM, data=data())
    passport_replace(actor=SYSTEM, person=person, country="DEU", number="C4J8LM2N1")
    rows = raw_passports()
    assert len(rows) == 2
    for (_pk, stored, digest), plain in zip(rows, (NUMBER, "C4J8LM2N1"), strict=True):
        assert plain not in stored and plain not in digest
        assert stored.startswith("gAAAAA")  # a Fernet token
        assert digest == crypto.search_hash(plain) and len(digest) == 64
    # In Python the attribute is the plaintext, so templates and PDFs need no change.
    assert [p.number for p in Passport.objects.order_by("pk")] == [NUMBER, "C4J8LM2N1"]
    assert list(Passport.objects.order_by("pk").values_list("number", flat=True)) == [
        NUMBER,
        "C4J8LM2N1",
    ]
    assert str(Passport.objects.get(is_current=True)) == "DEU ****M2N1"


def test_equal_values_give_different_tokens_and_one_hash() -> None:
    assert crypto.encrypt(NUMBER) != crypto.encrypt(NUMBER)
    assert crypto.decrypt(crypto.encrypt("Ünïcode 护照")) == "Ünïcode 护照"
    same = {crypto.search_hash(v) for v in (NUMBER, " c01x 00t47 ", "Ｃ０１Ｘ００Ｔ４７")}
    assert len(same) == 1
    assert crypto.search_hash("C01X00T48") not in same
    assert crypto.search_hash("") == "" and crypto.search_hashes("  ") == []


@pytest.mark.django_db
def test_filtering_on_the_encrypted_column_says_what_to_do_instead() -> None:
    with pytest.raises(FieldError, match=r"number_hash__in=search_hashes"):
        list(Passport.objects.filter(number=NUMBER))
    with pytest.raises(FieldError, match="encrypted"):
        list(Person.objects.filter(passports__number__icontains="X0"))


# --- lookups through the hash -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_passport_finds_the_same_person_and_another_name_is_refused() -> None:
    person, created = person_find_or_create(actor=SYSTEM, data=data())
    again, created_again = person_find_or_create(actor=SYSTEM, data=data("c01x00t47"))
    assert created and not created_again and again.pk == person.pk
    with pytest.raises(Conflict) as exc:
        person_find_or_create(actor=SYSTEM, data=data(family="Impostor"))
    assert exc.value.code == "passport_unavailable"
    # The same number issued by another country is another passport (unique per country).
    other, created_other = person_find_or_create(actor=SYSTEM, data=data(country="AUT"))
    assert created_other and other.pk != person.pk
    assert Passport.objects.count() == 2


@pytest.mark.django_db
def test_the_database_refuses_a_second_passport_with_the_same_country_and_number() -> None:
    from django.db import IntegrityError, transaction

    person_find_or_create(actor=SYSTEM, data=data())
    other = Person.objects.create(
        family_name="Other", sex="male", birth_date=date(1980, 1, 1), nationality="DEU"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Passport.objects.create(person=other, country="DEU", number="c01x 00t47", is_current=True)


# --- rotation -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotate_reencrypt_then_remove_the_old_key_and_everything_still_decrypts(
    own_keys: Path,
) -> None:
    numbers = [f"C01X0{i:04d}" for i in range(5)]
    for i, number in enumerate(numbers):
        person_find_or_create(actor=SYSTEM, data=data(number, family=f"Person{i}"))
    before = raw_passports()
    [old_key] = sorted(own_keys.glob("data-*.key"))

    crypto.data_key_rotate()
    person_find_or_create(actor=SYSTEM, data=data("C01XNEW01", family="New"))
    seen: list[tuple[str, int, int]] = []
    result = crypto.reencrypt(batch=2, progress=lambda *a: seen.append(a))
    by_column = {f"{c.model}.{c.field}": c for c in result}
    assert by_column["people.Passport.number"].rows == 6
    assert by_column["people.Passport.number"].changed == 5  # the new one was already current
    assert ("people.Passport.number", 0, 6) in seen and ("people.Passport.number", 6, 6) in seen
    after = raw_passports()
    assert all(b[1] != a[1] for b, a in zip(before, after, strict=False))  # new tokens
    assert [b[2] for b in before] == [a[2] for a in after[:5]]  # hashes unchanged

    again = crypto.reencrypt()
    assert sum(c.changed for c in again) == 0  # safe to run twice
    assert raw_passports() == after

    old_key.rename(own_keys.parent / old_key.name)  # retired: moved out of the key directory
    crypto.reset_caches()
    assert sorted(Passport.objects.values_list("number", flat=True)) == sorted(
        [*numbers, "C01XNEW01"]
    )
    found, created = person_find_or_create(actor=SYSTEM, data=data(numbers[3], family="Person3"))
    assert not created and found.family_name == "Person3"


@pytest.mark.django_db
def test_an_interrupted_reencryption_resumes_where_it_stopped(
    own_keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        person_find_or_create(actor=SYSTEM, data=data(f"C01X0{i:04d}", family=f"P{i}"))
    crypto.data_key_rotate()
    calls = {"n": 0}
    real = crypto.rotate_token

    def dies_on_the_fourth(token: str, *, where: str = "") -> str:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(token, where=where)

    monkeypatch.setattr(crypto, "rotate_token", dies_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        crypto.reencrypt(batch=2)
    monkeypatch.setattr(crypto, "rotate_token", real)
    assert sum(crypto.is_current(t) for _, t, _ in raw_passports()) == 2  # the first batch stayed
    resumed = crypto.reencrypt(batch=2)
    assert {f"{c.model}.{c.field}": c.changed for c in resumed}["people.Passport.number"] == 3
    assert all(crypto.is_current(t) for _, t, _ in raw_passports())


@pytest.mark.django_db
def test_a_key_removed_too_early_is_a_clear_error(own_keys: Path) -> None:
    person_find_or_create(actor=SYSTEM, data=data())
    [old_key] = sorted(own_keys.glob("data-*.key"))
    crypto.data_key_rotate()
    old_key.unlink()  # before `expatsi data reencrypt`: the number can no longer be read
    crypto.reset_caches()
    with pytest.raises(crypto.DataKeyError) as exc:
        Passport.objects.get()
    message = str(exc.value)
    assert "people.Passport.number cannot be decrypted with any of the 1 data key(s)" in message
    assert str(own_keys) in message and "docs/operations.md" in message
    with pytest.raises(crypto.DataKeyError, match=r"people.Passport.number \(row \d+\)"):
        crypto.reencrypt()


@pytest.mark.django_db
def test_a_wrong_key_file_is_a_clear_error(own_keys: Path) -> None:
    person_find_or_create(actor=SYSTEM, data=data())
    [key] = own_keys.glob("data-*.key")
    key.write_text("not a key\n")
    crypto.reset_caches()
    with pytest.raises(crypto.DataKeyError, match="is not a key file"):
        Passport.objects.get()
    key.write_text(Fernet.generate_key().decode())  # a valid key, but another one
    crypto.reset_caches()
    with pytest.raises(crypto.DataKeyError, match="cannot be decrypted"):
        Passport.objects.get()


def test_production_without_keys_stops_with_what_to_run_and_debug_creates_them(
    settings: Any, tmp_path: Path
) -> None:
    settings.EXPATSI_KEY_DIR = tmp_path / "keys"
    crypto.reset_caches()
    try:
        settings.DEBUG = False
        with pytest.raises(crypto.DataKeyError, match=r"run `expatsi data keys init`"):
            crypto.encrypt(NUMBER)
        settings.DEBUG = True
        assert crypto.decrypt(crypto.encrypt(NUMBER)) == NUMBER
        assert len(list((tmp_path / "keys").glob("data-*.key"))) == 1
        assert len(list((tmp_path / "keys").glob("search-*.key"))) == 1
    finally:
        crypto.reset_caches()


def test_key_files_are_encrypted_with_the_key_password(settings: Any, tmp_path: Path) -> None:
    settings.EXPATSI_KEY_DIR = tmp_path / "keys"
    settings.EXPATSI_KEY_PASSWORD = "correct horse battery staple"
    crypto.reset_caches()
    try:
        crypto.keys_init()
        token = crypto.encrypt(NUMBER)
        [key_file] = (tmp_path / "keys").glob("data-*.key")
        assert key_file.read_text().startswith("scrypt:")
        assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
        settings.EXPATSI_KEY_PASSWORD = "wrong"
        crypto.reset_caches()
        with pytest.raises(crypto.DataKeyError, match="does not open it"):
            crypto.decrypt(token)
        settings.EXPATSI_KEY_PASSWORD = None
        crypto.reset_caches()
        with pytest.raises(crypto.DataKeyError, match="set EXPATSI_KEY_PASSWORD"):
            crypto.decrypt(token)
    finally:
        crypto.reset_caches()


@pytest.mark.django_db
def test_search_key_rotation_keeps_lookups_working_until_rehash_is_done(own_keys: Path) -> None:
    person, _ = person_find_or_create(actor=SYSTEM, data=data())
    [old_search] = sorted(own_keys.glob("search-*.key"))
    crypto.search_key_rotate()
    # Between the rotation and the end of `rehash`, the old hash still finds the person.
    again, created = person_find_or_create(actor=SYSTEM, data=data())
    assert not created and again.pk == person.pk
    person_find_or_create(actor=SYSTEM, data=data("C01XNEW01", family="New"))
    changed = {f"{c.model}.{c.field}": c.changed for c in crypto.rehash(batch=1) if c.changed}
    assert changed == {"people.Passport.number_hash": 1}  # no other hashed value exists yet
    assert sum(c.changed for c in crypto.rehash()) == 0
    old_search.unlink()
    crypto.reset_caches()
    assert [h for _, _, h in raw_passports()] == [
        crypto.search_hash(NUMBER),
        crypto.search_hash("C01XNEW01"),
    ]
    again, created = person_find_or_create(actor=SYSTEM, data=data())
    assert not created and again.pk == person.pk


# --- the command --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cli_keys_and_reencrypt(own_keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    person_find_or_create(actor=SYSTEM, data=data())
    assert main(["data", "keys", "rotate", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [k["current"] for k in listed["data_keys"]] == [False, True]
    assert listed["created"] == [listed["data_keys"][1]["name"]]
    assert main(["data", "reencrypt", "--json"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result["changed"] == 1 and result["data_key"] == listed["data_keys"][1]["name"]
    assert "people.Passport.number [" in err and "1/1 rows" in err  # progress on stderr
    assert main(["data", "reencrypt", "--json", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["changed"] == 0 and err == ""
    assert main(["data", "rehash", "--quiet"]) == 0
    assert "changed: 0" in capsys.readouterr().out


def test_cli_bad_input_and_missing_keys_are_one_line_exit_2(
    settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "reencrypt", "--batch", "0"]) == 2
    assert "batch" in capsys.readouterr().err
    settings.EXPATSI_KEY_DIR = tmp_path / "none"
    crypto.reset_caches()
    settings.DEBUG = False
    try:
        assert main(["data", "keys", "list"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "expatsi data keys init" in err
        assert main(["data", "keys", "rotate"]) == 2  # nothing to rotate: init first
        assert not (tmp_path / "none").exists()
    finally:
        crypto.reset_caches()


# --- the migration ------------------------------------------------------------------------------


def _insert_plaintext(person: Person, country: str, number: str, current: bool) -> None:
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO people_passport (person_id, country, number, number_hash, is_current,"
            " created_at) VALUES (%s, %s, %s, '', %s, %s)",
            [person.pk, country, number, current, timezone.now()],
        )


@pytest.mark.django_db
def test_the_migration_encrypts_rows_on_file_in_batches_and_can_be_undone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    migration = importlib.import_module("expatsi.people.migrations.0003_encrypt_passport_numbers")
    monkeypatch.setattr(migration, "BATCH", 2)
    people = [
        Person.objects.create(
            family_name=f"P{i}", sex="male", birth_date=date(1980, 1, 1), nationality=country
        )
        for i, country in enumerate(COUNTRIES)
    ]
    numbers = [f"E1234567{i}" for i in range(5)]
    # Another country each: in this (migrated) test schema (country, number_hash) is unique, and
    # the rows wait for their hash as they would before the migration.
    for person, number, country in zip(people, numbers, COUNTRIES, strict=True):
        _insert_plaintext(person, country, number, True)
    assert [n for _, n, _ in raw_passports()] == numbers  # as before the migration

    migration.encrypt_numbers(django_apps, None)
    rows = raw_passports()
    assert all(n not in stored for n, (_, stored, _) in zip(numbers, rows, strict=True))
    assert [h for _, _, h in rows] == [crypto.search_hash(n) for n in numbers]
    assert list(Passport.objects.order_by("pk").values_list("number", flat=True)) == numbers
    migration.encrypt_numbers(django_apps, None)  # resumed or run twice: nothing left to do
    assert raw_passports() == rows
    found, created = person_find_or_create(
        actor=SYSTEM,
        data=PersonData(
            family_name="P2",
            given_names="",
            sex="male",
            birth_date=date(1980, 1, 1),
            nationality=COUNTRIES[2],
            passport_number=numbers[2],
        ),
    )
    assert not created and found.pk == people[2].pk

    migration.decrypt_numbers(django_apps, None)  # unapplying: plaintext again
    assert [(n, h) for _, n, h in raw_passports()] == [(n, "") for n in numbers]


@pytest.mark.django_db(transaction=True)
def test_migrating_a_database_with_plaintext_passports_encrypts_them() -> None:
    """The three migrations from the schema before encryption, on this database's engine."""
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target: list[tuple[str, str]]) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(target)

    # Back to people 0001 also unapplies every app that depends on later people migrations
    # (benefits, cases…): forward again to every app's latest, not just people's.
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    migrate([("people", "0001_initial")])
    try:
        with connection.cursor() as c:
            c.execute(
                "INSERT INTO people_person (family_name, given_names, chinese_name, sex,"
                " birth_date, nationality, email, phone, address_abroad, preferred_language,"
                " created_at, updated_at) VALUES ('Schmidt', 'Anna', '', 'female', %s, 'DEU',"
                " '', '', '', 'en', %s, %s)",
                [date(1985, 3, 14), timezone.now(), timezone.now()],
            )
            c.execute("SELECT id FROM people_person")
            (person_id,) = c.fetchone()
            c.execute(
                "INSERT INTO people_passport (person_id, country, number, is_current, created_at)"
                " VALUES (%s, 'DEU', %s, %s, %s)",
                [person_id, NUMBER, True, timezone.now()],
            )
    finally:
        migrate(latest)
    [(_pk, stored, digest)] = raw_passports()
    assert NUMBER not in stored and digest == crypto.search_hash(NUMBER)
    assert Passport.objects.get().number == NUMBER


def test_deploy_check_finds_missing_keys_and_card_keys_init_creates_them(
    settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from expatsi.access.checks import data_keys_present
    from expatsi.cards import keys as card_keys

    settings.EXPATSI_KEY_DIR = tmp_path / "keys"
    crypto.reset_caches()
    settings.DEBUG = False
    try:
        [error] = data_keys_present()
        assert error.id == "expatsi.E001" and "expatsi data keys init" in error.msg
        assert main(["card", "keys", "init", "--json"]) == 0  # creates every key, data keys too
        capsys.readouterr()
        assert len(list((tmp_path / "keys").glob("data-*.key"))) == 1
        assert len(list((tmp_path / "keys").glob("search-*.key"))) == 1
        assert data_keys_present() == []
    finally:
        crypto.reset_caches()
        card_keys.reset_caches()
