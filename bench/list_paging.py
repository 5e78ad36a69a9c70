"""List paging at volume on PostgreSQL: the first page, a page in the middle of the list reached by
cursor (keyset paging, web.lists), and the same middle page by OFFSET (what the toolkit did
before), for the cards and employers lists' sorts. Each figure is the whole toolkit page (rows
plus the capped count), median of five.

    DATABASE_URL=postgresql://… python bench/list_paging.py --cards 200000

Prints one table and, with ``--json``, a JSON list of rows ({list, sort, first_ms, cursor_ms,
offset_ms, depth}). A proposed row family for bench/run.py: "list page at N cards: first /
deep by cursor / deep by offset".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expatsi.settings")
os.environ.setdefault("EXPATSI_DEBUG", "1")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F, QuerySet  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from expatsi.access.actors import SYSTEM  # noqa: E402
from expatsi.cards.list_views import CARDS  # noqa: E402
from expatsi.cards.models import Card  # noqa: E402
from expatsi.employers.admin_views import employers_spec  # noqa: E402
from expatsi.employers.models import Employer  # noqa: E402
from expatsi.web import lists  # noqa: E402

PER_EMPLOYER = 20


def generate(cards: int) -> None:
    """People, employers (20 cards each) and cards, in SQL: numbers and dates spread so that
    every sort has ties and empty values (a ninth of the cards have no number yet, a seventh no
    validity)."""
    employers = max(1, cards // PER_EMPLOYER)
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO employers_employer (name, name_zh, uscc, region_code, kind, "
            "overseas_company, overseas_country, address, email, created_at) "
            "SELECT 'Employer ' || (g %% 9973), '', '9' || lpad(g::text, 17, '0'), "
            "(ARRAY['110000','310000','440000'])[1 + g %% 3], 'domestic', '', '', '', '', "
            "now() - (g || ' minutes')::interval FROM generate_series(1, %s) g",
            [employers],
        )
        c.execute("SELECT min(id) FROM employers_employer")
        first_employer = c.fetchone()[0]
        c.execute(
            "INSERT INTO people_person (family_name, given_names, chinese_name, sex, birth_date, "
            "nationality, email, phone, address_abroad, preferred_language, created_at, "
            "updated_at) SELECT 'N' || lpad((g %% 7919)::text, 5, '0'), 'A', '', 'female', "
            "'1985-01-01', 'DEU', '', '', '', 'en', now(), now() FROM generate_series(1, %s) g",
            [cards],
        )
        c.execute("SELECT min(id) FROM people_person")
        first_person = c.fetchone()[0]
        c.execute(
            "INSERT INTO cards_card (person_id, employer_id, card_number, permit_number, category, "
            "position, valid_to, status, legacy, photo_hash, deregistration_reason, created_at, "
            "updated_at) SELECT %s + g, %s + g %% %s, "
            "CASE WHEN g %% 9 = 0 THEN NULL ELSE 'IC' || lpad(g::text, 10, '0') END, "
            "'P' || lpad((g %% 50000)::text, 8, '0'), 'B', 'Engineer', "
            "CASE WHEN g %% 7 = 0 THEN NULL ELSE date '2027-01-01' + (g %% 700) END, "
            "'active', false, '', '', now(), "
            "timestamptz '2026-01-01' + ((g %% 100000) || ' seconds')::interval "
            "FROM generate_series(0, %s - 1) g",
            [first_person, first_employer, employers, cards],
        )
        c.execute("ANALYZE")
    print(f"generated {cards:,} cards in {time.perf_counter() - t0:.1f}s", file=sys.stderr)


def median_ms(fn: Callable[[], object], repeats: int = 5) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def measure(name: str, spec: lists.ListSpec, qs: QuerySet[Any], sort: str) -> dict[str, Any]:
    per_page = 50
    get = RequestFactory().get
    first_url = f"/x/?sort={sort}"
    state = lists.ListState.from_request(spec, get(first_url))
    ordered = lists.apply(spec, state, qs)
    total = qs.count()
    depth = total // 2 // per_page * per_page  # rows before the middle page
    page = depth // per_page + 1
    keys = lists._keys(spec, state, ordered)
    before = ordered.annotate(
        **{lists._alias(i, k): F(k.path) for i, k in enumerate(keys) if "__" in k.path}
    )[depth - 1]
    cursor = lists._make_cursor(state, page, "after", lists._key_values(before, keys))
    deep_url = f"/x/?sort={sort}&page={page}&cursor={cursor}"
    deep = lists.list_page(spec, get(deep_url), qs)
    assert deep.state.page == page
    assert not deep.state.cursor_invalid
    assert [r.pk for r in deep.rows] == [r.pk for r in ordered[depth : depth + per_page]]

    def by_offset() -> object:
        rows = list(ordered[depth : depth + per_page + 1])
        return rows, qs.order_by()[: lists.COUNT_CAP + 1].count()

    return {
        "list": name,
        "sort": sort,
        "rows": total,
        "depth": depth,
        "first_ms": median_ms(lambda: lists.list_page(spec, get(first_url), qs)),
        "cursor_ms": median_ms(lambda: lists.list_page(spec, get(deep_url), qs)),
        "offset_ms": median_ms(by_offset),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-generate", action="store_true")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "a PostgreSQL DATABASE_URL, please"
    call_command("migrate", verbosity=0)
    if not args.no_generate:
        generate(args.cards)
    cards = Card.objects.select_related("person", "employer")
    spec = employers_spec(SYSTEM)
    rows = [
        *(measure("cards", CARDS, cards, s) for s in ("-updated", "valid_to", "-card", "permit")),
        *(measure("employers", spec, Employer.objects.all(), s) for s in ("name", "-created")),
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"{'list':10} {'sort':10} {'rows':>9} {'page 1':>9} {'middle by cursor':>17} "
        f"{'middle by OFFSET':>17}"
    )
    for r in rows:
        print(
            f"{r['list']:10} {r['sort']:10} {r['rows']:>9,} {r['first_ms']:>7.1f}ms "
            f"{r['cursor_ms']:>15.1f}ms {r['offset_ms']:>15.1f}ms"
        )


if __name__ == "__main__":
    main()
