"""The bill-line indexes of the compliance scan (billing 0009) are built without stopping writes
on PostgreSQL (CREATE INDEX CONCURRENTLY, outside a transaction) and as plain indexes on SQLite:
the same migration runs forwards and backwards on both engines."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

NAMES = {"billline_medical", "billline_exempt"}


def _migrate(target: list[tuple[str, str]]) -> list[str]:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    with CaptureQueriesContext(connection) as queries:
        executor.migrate(target)
    return [q["sql"] for q in queries.captured_queries]


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "billing_billline")
    return NAMES & set(found)


@pytest.mark.django_db(transaction=True)
def test_scan_indexes_migrate_both_ways_and_concurrently_on_postgresql() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    assert _indexes() == NAMES
    try:
        _migrate([("billing", "0008_billing_partitions")])
        assert _indexes() == set()
        sql = _migrate(latest)
        assert _indexes() == NAMES
        created = [
            s
            for s in sql
            if "CREATE INDEX" in s and ("billline_medical" in s or "billline_exempt" in s)
        ]
        assert len(created) == 2
        if connection.vendor == "postgresql":
            assert all("CONCURRENTLY" in s for s in created), created
    finally:
        _migrate(latest)
