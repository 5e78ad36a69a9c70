"""One way to show a list of records: search, filters, sortable columns, paging and exports.

Every list page (registrations, the agency's queues, the HR home list, the audit trail, cards)
declares a :class:`ListSpec` — its columns, which of them sort and by which indexed fields, its
filters and their choices — and hands the toolkit a queryset that its selector has already scoped
to the reader. The toolkit never widens that queryset; it only narrows, orders and slices it.

Why this shape, at a million rows:

- **Sorting is whitelisted.** ``?sort=`` names a column key, never a field; an unknown key falls
  back to the default. Each order ends in ``pk`` so paging is stable, and a nullable field sorts
  its empty values last ascending, first descending (PostgreSQL's own order, so one index serves
  both directions, and SQLite follows it).
- **Deep pages cost what the first page costs (keyset, "seek" paging).** "Next" and "Previous"
  carry a cursor: the sort key and ``pk`` of the page's last (or first) row, signed. The next page
  is the rows *after* that key — ``(sort fields…, pk) > (values…, id)``, a row comparison an index
  on the same columns answers as a range — never ``OFFSET n``, which reads and throws away ``n``
  rows. Plain page numbers (``?page=3``) still work for the first :data:`OFFSET_PAGES` pages, where
  an offset costs at most a few thousand index entries; a deeper number is clamped there. Why keep
  them at all: they are the addresses people bookmark and share for the top of a list, and the
  status line keeps counting rows ("Rows 501–550") because the cursor carries its page number.
  Why signed: a cursor goes into a ``WHERE`` through the ORM (never into SQL text), so a forged one
  could only narrow the reader's own scoped rows — but a signature lets a garbled, edited or
  outdated link be told apart and answered with the first page and a note, never an error.
- **No COUNT(*) over the table.** A page fetches ``per_page + 1`` rows to know whether there is a
  next page, and the match count is bounded (``COUNT`` over at most :data:`COUNT_CAP` rows: "more
  than 1,000"). Both cost one query each, whatever the table's size.
- **Exports are what the filters show**, every matching row (not only the page), streamed: CSV
  row by row from a server-side cursor, XLSX through openpyxl's write-only mode. Cells go through
  :mod:`expatsi.spreadsheets`, so no text becomes a formula.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import BooleanField, Expression, F, Field, Q, QuerySet, Value
from django.db.models.expressions import OrderBy
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from expatsi import spreadsheets

PER_PAGE = 50
PER_PAGE_CHOICES = (25, 50, 100, 200)
COUNT_CAP = 1000
MAX_PAGE = 10_000_000  # a cursor's page number past this is not a link the portal made
OFFSET_PAGES = 10  # plain ``?page=N`` (OFFSET) only this deep; further on, cursors
CURSOR_SALT = "expatsi.web.lists.cursor"
EXPORT_CHUNK = 2000
QUERY_MAX = 100

Label = str | Promise
ExportRow = Callable[[Any], Sequence[spreadsheets.Cell]]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the table. ``order`` (fields, ascending) makes it sortable; descending is the
    same fields reversed. Only these orders are ever applied."""

    key: str
    label: Label
    order: tuple[str, ...] = ()

    @property
    def sortable(self) -> bool:
        return bool(self.order)


@dataclass(frozen=True, slots=True)
class Filter:
    """A choice the reader narrows the list by; ``apply`` turns a whitelisted value into a filter
    on the queryset. The empty value means "any"."""

    name: str
    label: Label
    choices: Sequence[tuple[str, Label]]
    apply: Callable[[QuerySet[Any], str], QuerySet[Any]]
    any_label: Label = ""
    # Used when the parameter is absent altogether (an explicit empty value means "any").
    default: str = ""


@dataclass(frozen=True, slots=True)
class ListSpec:
    columns: Sequence[Column]
    default_sort: str
    filters: Sequence[Filter] = ()
    search: Callable[[QuerySet[Any], str], QuerySet[Any]] | None = None
    search_label: Label = ""
    export_name: str = ""  # the file name's stem; empty: no export
    export_header: Sequence[str] = ()
    export_row: ExportRow | None = None
    # Query parameters the page keeps across searches and sorts (e.g. the HR user's employer).
    keep: Sequence[str] = ()

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key and c.sortable), None)


@dataclass(frozen=True, slots=True)
class ListState:
    """What the reader asked for, every value checked against the spec.

    ``cursor`` is the signed token of a "Next"/"Previous" link, ``direction`` (``after`` or
    ``before``) and ``key`` what it says, still as JSON values (:func:`paginate` types them
    against the sort fields). ``cursor_invalid``: the request carried a cursor that was garbled,
    edited or made for another sort, filter or page size — the first page is shown instead."""

    query: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    sort: str = ""
    page: int = 1
    per_page: int = PER_PAGE
    kept: Mapping[str, str] = field(default_factory=dict)
    cursor: str = ""
    direction: str = ""
    key: tuple[Any, ...] = ()
    cursor_invalid: bool = False

    @classmethod
    def from_request(cls, spec: ListSpec, request: HttpRequest) -> ListState:
        get = request.GET
        filters: dict[str, str] = {}
        for f in spec.filters:
            value = get.get(f.name)
            if value is None:
                value = f.default
            if value in {str(code) for code, _label in f.choices}:
                filters[f.name] = value
            elif f.default:
                filters[f.name] = ""  # "any", said out loud so the default does not return
        sort = get.get("sort", "")
        if spec.column(sort.removeprefix("-")) is None:
            sort = spec.default_sort
        try:
            page = min(max(int(get.get("page", "1")), 1), OFFSET_PAGES)
        except ValueError:
            page = 1
        try:
            per_page = int(get.get("per_page", str(PER_PAGE)))
        except ValueError:
            per_page = PER_PAGE
        if per_page not in PER_PAGE_CHOICES:
            per_page = PER_PAGE
        kept = {k: get[k][:50] for k in spec.keep if get.get(k)}
        query = get.get("q", "").strip()[:QUERY_MAX] if spec.search else ""
        state = cls(query, filters, sort, page, per_page, kept)
        token = get.get("cursor", "")
        if not token:
            return state
        payload = _read_cursor(token, state)
        if payload is None:
            return replace(state, page=1, cursor_invalid=True)
        page, direction, key = payload
        return replace(state, page=page, cursor=token, direction=direction, key=key)

    @property
    def scope_digest(self) -> str:
        """What a cursor is only valid for besides its sort and page size: the search, the
        filters and the kept parameters (a cursor into one filter's rows means nothing in
        another's)."""
        text = json.dumps([self.query, dict(self.filters), dict(self.kept)], sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    def params(self, **changes: Any) -> dict[str, str]:
        """The query parameters of this state, with ``changes`` (None drops one). The current
        cursor stays only while the page does: any change of page drops it."""
        out: dict[str, str] = dict(self.kept)
        if self.query:
            out["q"] = self.query
        out.update(self.filters)
        out["sort"] = self.sort
        if self.per_page != PER_PAGE:
            out["per_page"] = str(self.per_page)
        if self.page != 1:
            out["page"] = str(self.page)
        if self.cursor and "page" not in changes:
            out["cursor"] = self.cursor
        for key, value in changes.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = str(value)
        return out

    def url(self, **changes: Any) -> str:
        return "?" + urlencode(self.params(**changes))


# --- cursors --------------------------------------------------------------------------------------


def _read_cursor(token: str, state: ListState) -> tuple[int, str, tuple[Any, ...]] | None:
    """The cursor's page, direction and key if it is one this portal signed for this very sort,
    page size and filters; None for anything else (the first page is shown, with a note)."""
    if len(token) > 2000:
        return None
    try:
        data = signing.loads(token, salt=CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    page, direction, key = data.get("p"), data.get("d"), data.get("k")
    if (
        data.get("s") != state.sort
        or data.get("n") != state.per_page
        or data.get("f") != state.scope_digest
        or not isinstance(page, int)
        or isinstance(page, bool)
        or not 2 <= page <= MAX_PAGE
        or direction not in ("after", "before")
        or not isinstance(key, list)
        or not all(v is None or isinstance(v, str | int | float | bool) for v in key)
    ):
        return None
    return page, direction, tuple(key)


def _json_value(value: Any) -> Any:
    """A sort value as JSON, exactly: datetimes keep their microseconds and offset (a key cut to
    milliseconds would repeat or skip rows)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)  # Decimal, UUID: their exact text


def _make_cursor(state: ListState, page: int, direction: str, key: Sequence[Any]) -> str:
    payload = {
        "s": state.sort,
        "n": state.per_page,
        "f": state.scope_digest,
        "p": page,
        "d": direction,
        "k": [_json_value(v) for v in key],
    }
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


# --- ordering and seeking -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Key:
    """One field of a list's order: its ORM path (or annotation name), direction, whether it can
    be NULL (a nullable field or one reached through a nullable relation) and the field that types
    a cursor's JSON value back."""

    path: str
    descending: bool
    nullable: bool
    field: Field[Any, Any]

    def flipped(self) -> _Key:
        return replace(self, descending=not self.descending)

    def order(self) -> OrderBy | str:
        if not self.nullable:
            return f"-{self.path}" if self.descending else self.path
        if self.descending:
            return F(self.path).desc(nulls_first=True)
        return F(self.path).asc(nulls_last=True)


def _resolve(qs: QuerySet[Any], path: str) -> tuple[Field[Any, Any], bool]:
    """The field behind an order path and whether its value can be NULL."""
    annotation = qs.query.annotations.get(path)
    if annotation is not None:
        out: Field[Any, Any] = annotation.output_field
        return out, bool(getattr(out, "null", True))
    model: Any = qs.model
    nullable = False
    parts = path.split("__")
    for i, part in enumerate(parts):
        found: Any = model._meta.pk if part == "pk" else model._meta.get_field(part)
        nullable = nullable or bool(getattr(found, "null", False))
        if i < len(parts) - 1:
            model = found.related_model
    return found, nullable


def _keys(spec: ListSpec, state: ListState, qs: QuerySet[Any]) -> list[_Key]:
    """The full order of the state's sort on ``qs``, ``pk`` last (the tiebreaker)."""
    column = spec.column(state.sort.removeprefix("-"))
    assert column is not None  # ListState.from_request whitelisted it
    descending = state.sort.startswith("-")
    keys: list[_Key] = []
    for raw in (*column.order, "pk"):
        path = raw.removeprefix("-")
        try:
            found, nullable = _resolve(qs, path)
        except (FieldDoesNotExist, AttributeError) as exc:  # a spec's mistake, not the reader's
            raise ValueError(f"list column {column.key!r}: cannot order by {raw!r}") from exc
        keys.append(_Key(path, raw.startswith("-") != descending, nullable, found))
    return keys


class _RowCompare(Expression):
    """``(a, b, …) > (x, y, …)`` (or ``<``): the row comparison PostgreSQL answers with one index
    range over ``(a, b, …)`` — an ``OR`` of the same conditions would be filtered row by row. SQLite
    has row values since 3.15. The caller makes sure no side can be NULL."""

    output_field = BooleanField()

    def __init__(self, keys: Sequence[_Key], values: Sequence[Any], op: str) -> None:
        super().__init__(output_field=BooleanField())
        self.left: list[Any] = [F(k.path) for k in keys]
        self.right: list[Any] = [
            Value(v, output_field=k.field) for k, v in zip(keys, values, strict=True)
        ]
        self.op = op

    def get_source_expressions(self) -> list[Any]:
        return [*self.left, *self.right]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        n = len(self.left)
        self.left, self.right = list(exprs[:n]), list(exprs[n:])

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        sides: list[str] = []
        params: list[Any] = []
        for side in (self.left, self.right):
            parts = []
            for expr in side:
                sql, p = compiler.compile(expr)
                parts.append(sql)
                params.extend(p)
            sides.append("(" + ", ".join(parts) + ")")
        return f"{sides[0]} {self.op} {sides[1]}", params


def _uniform(keys: Sequence[_Key]) -> bool:
    return len({k.descending for k in keys}) == 1 and not any(k.nullable for k in keys)


def _row_after(keys: Sequence[_Key], values: Sequence[Any]) -> Any:
    """Rows after ``values`` in an order of non-null fields all in one direction."""
    if len(keys) == 1:
        lookup = "lt" if keys[0].descending else "gt"
        return Q(**{f"{keys[0].path}__{lookup}": values[0]})
    return _RowCompare(keys, values, "<" if keys[0].descending else ">")


def _step_after(key: _Key, value: Any) -> Q | None:
    """Rows strictly after ``value`` in this one field (NULLs are the largest values)."""
    if value is None:
        return Q(**{f"{key.path}__isnull": False}) if key.descending else None
    if key.descending:
        return Q(**{f"{key.path}__lt": value})
    after = Q(**{f"{key.path}__gt": value})
    return after | Q(**{f"{key.path}__isnull": True}) if key.nullable else after


def _equal(key: _Key, value: Any) -> Q:
    return Q(**{f"{key.path}__isnull": True}) if value is None else Q(**{key.path: value})


def _expanded_after(keys: Sequence[_Key], values: Sequence[Any]) -> Q:
    """Rows after ``values`` for any order (mixed directions, NULLs anywhere): ``a > x OR (a = x
    AND b > y) OR …``. Correct everywhere; the lists' own orders take the faster paths."""
    out = Q(pk__in=[])
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        step = _step_after(key, value)
        if step is None:
            continue
        for k, v in zip(keys[:i], values[:i], strict=True):
            step &= _equal(k, v)
        out |= step
    return out


def _segments(keys: Sequence[_Key], values: Sequence[Any]) -> list[list[Any]]:
    """The rows after ``values`` as consecutive runs in the order, each one index range: the
    filters of each run. A nullable leading field (a card without a number yet) splits its
    non-null range from its NULLs; asked one after the other, they need a second query only on
    the page where the one runs into the other."""
    if _uniform(keys):
        return [[_row_after(keys, values)]]
    first, rest = keys[0], keys[1:]
    if first.nullable and _uniform(rest):
        isnull = Q(**{f"{first.path}__isnull": True})
        within_nulls = [isnull, _row_after(rest, values[1:])]
        if values[0] is None:
            if first.descending:  # NULLs first: the rest of the NULLs, then every value
                return [within_nulls, [Q(**{f"{first.path}__isnull": False})]]
            return [within_nulls]
        row = _RowCompare(keys, values, "<" if first.descending else ">")
        return [[row]] if first.descending else [[row], [isnull]]
    return [[_expanded_after(keys, values)]]


def _key_values(row: Any, keys: Sequence[_Key]) -> list[Any]:
    return [getattr(row, _alias(i, k)) for i, k in enumerate(keys)]


def _alias(i: int, key: _Key) -> str:
    """Where a row carries its sort value: the field itself, or an annotation for a related
    field (read from the row's own query, never from a related object it may not have loaded)."""
    return key.path if "__" not in key.path else f"_list_key_{i}"


def _typed(keys: Sequence[_Key], raw: Sequence[Any]) -> list[Any] | None:
    """A cursor's JSON values as the sort fields' Python values, or None if they do not fit."""
    if len(raw) != len(keys):
        return None
    out: list[Any] = []
    for key, value in zip(keys, raw, strict=True):
        if value is None:
            if not key.nullable:
                return None
            out.append(None)
            continue
        try:
            out.append(key.field.to_python(value))
        except (ValidationError, TypeError, ValueError):
            return None
    return out


def apply(spec: ListSpec, state: ListState, qs: QuerySet[Any]) -> QuerySet[Any]:
    """The reader's search, filters and order on ``qs`` (already scoped by its selector)."""
    if state.query and spec.search is not None:
        qs = spec.search(qs, state.query)
    for f in spec.filters:
        value = state.filters.get(f.name)
        if value:
            qs = f.apply(qs, value)
    return qs.order_by(*(k.order() for k in _keys(spec, state, qs)))


@dataclass(frozen=True, slots=True)
class Header:
    label: Label
    key: str
    sortable: bool
    url: str = ""
    aria_sort: str = "none"
    arrow: str = ""


@dataclass(slots=True)
class ListPage:
    """One page of a list, and everything its template include needs."""

    spec: ListSpec
    state: ListState
    rows: list[Any]
    has_next: bool
    count: int  # bounded: at most COUNT_CAP + 1
    headers: list[Header]
    export: bool = True
    # Signed cursors of the rows after the last and before the first row shown.
    next_cursor: str = ""
    previous_cursor: str = ""

    @property
    def searchable(self) -> bool:
        """A search box is shown (templates call callables, so not ``spec.search`` itself)."""
        return self.spec.search is not None

    @property
    def has_previous(self) -> bool:
        return self.state.page > 1

    @property
    def first(self) -> int:
        return (self.state.page - 1) * self.state.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def count_capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def count_shown(self) -> int:
        return min(self.count, COUNT_CAP)

    @property
    def next_url(self) -> str:
        return self.state.url(page=self.state.page + 1, cursor=self.next_cursor or None)

    @property
    def previous_url(self) -> str:
        if self.state.page <= 2 or not self.previous_cursor:
            return self.state.url(page=None)  # the first page: its plain address
        return self.state.url(page=self.state.page - 1, cursor=self.previous_cursor)

    @property
    def filtered(self) -> bool:
        defaults = {f.name: f.default for f in self.spec.filters}
        chosen = {f.name: self.state.filters.get(f.name, "") for f in self.spec.filters}
        return bool(self.state.query) or chosen != defaults

    @property
    def hidden_params(self) -> list[tuple[str, str]]:
        """What the search form carries besides its own fields (sort, page size, kept params)."""
        params = self.state.params(page=None, q=None, **dict.fromkeys(self.state.filters))
        return sorted(params.items())

    @property
    def reset_url(self) -> str:
        return "?" + urlencode({**self.state.kept, "sort": self.state.sort})

    @property
    def export_url_csv(self) -> str:
        return self.state.url(page=None, per_page=None, export="csv")

    @property
    def export_url_xlsx(self) -> str:
        return self.state.url(page=None, per_page=None, export="xlsx")

    @property
    def filter_controls(self) -> list[dict[str, Any]]:
        return [
            {
                "name": f.name,
                "label": f.label,
                "any": f.any_label or _("Any"),
                "choices": f.choices,
                "value": self.state.filters.get(f.name, ""),
            }
            for f in self.spec.filters
        ]

    @property
    def per_page_choices(self) -> Sequence[int]:
        return PER_PAGE_CHOICES


def _headers(spec: ListSpec, state: ListState) -> list[Header]:
    out: list[Header] = []
    current = state.sort.removeprefix("-")
    descending = state.sort.startswith("-")
    for c in spec.columns:
        if not c.sortable:
            out.append(Header(c.label, c.key, False))
            continue
        if c.key == current:
            out.append(
                Header(
                    c.label,
                    c.key,
                    True,
                    state.url(sort=c.key if descending else f"-{c.key}", page=None),
                    "descending" if descending else "ascending",
                    "▼" if descending else "▲",
                )
            )
        else:
            out.append(Header(c.label, c.key, True, state.url(sort=c.key, page=None)))
    return out


def _seek(qs: QuerySet[Any], keys: Sequence[_Key], values: Sequence[Any], limit: int) -> list[Any]:
    """Up to ``limit`` rows after ``values`` in the order of ``keys``: one query per run of
    :func:`_segments`, the next asked only if the one before ran out."""
    ordered = qs.order_by(*(k.order() for k in keys))
    rows: list[Any] = []
    for filters in _segments(keys, values):
        rows.extend(ordered.filter(*filters)[: limit - len(rows)])
        if len(rows) >= limit:
            break
    return rows


def paginate(spec: ListSpec, state: ListState, qs: QuerySet[Any]) -> ListPage:
    """One page of ``qs`` (already through :func:`apply`): ``per_page + 1`` rows fetched — after
    or before a cursor's key, or from an offset on the first pages — and a count bounded by
    :data:`COUNT_CAP`: two queries, whatever the size of the table or the depth of the page."""
    keys = _keys(spec, state, qs)
    related = {_alias(i, k): F(k.path) for i, k in enumerate(keys) if "__" in k.path}
    if related:
        qs = qs.annotate(**related)
    size = state.per_page
    values = _typed(keys, state.key) if state.direction else None
    if state.direction and values is None:
        state = replace(state, page=1, cursor="", direction="", key=(), cursor_invalid=True)
    if values is not None and state.direction == "before":
        back = _seek(qs, [k.flipped() for k in keys], values, size + 1)
        rows = back[:size][::-1]
        has_next = True  # the row the cursor was made from follows
        if len(back) <= size:  # nothing before these: this is the first page after all
            state = replace(state, page=1, cursor="", direction="", key=())
    elif values is not None:
        rows = _seek(qs, keys, values, size + 1)
        has_next = len(rows) > size
        rows = rows[:size]
    else:
        start = (state.page - 1) * size
        rows = list(qs[start : start + size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
    count = qs.order_by()[: COUNT_CAP + 1].count()
    next_cursor = previous_cursor = ""
    if rows:
        next_cursor = _make_cursor(state, state.page + 1, "after", _key_values(rows[-1], keys))
        if state.page > 2:
            previous_cursor = _make_cursor(
                state, state.page - 1, "before", _key_values(rows[0], keys)
            )
    return ListPage(
        spec,
        state,
        rows,
        has_next,
        count,
        _headers(spec, state),
        export=bool(spec.export_name and spec.export_row),
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
    )


def list_page(spec: ListSpec, request: HttpRequest, qs: QuerySet[Any]) -> ListPage:
    """The reader's page of ``qs``: parse the request, narrow, order and slice."""
    state = ListState.from_request(spec, request)
    return paginate(spec, state, apply(spec, state, qs))


# --- exports --------------------------------------------------------------------------------------

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_format(request: HttpRequest) -> str:
    """``csv`` or ``xlsx`` if the reader asked for an export, else an empty string."""
    fmt = request.GET.get("export", "")
    return fmt if fmt in ("csv", "xlsx") else ""


def _rows(qs: QuerySet[Any], row: ExportRow) -> Iterator[Sequence[spreadsheets.Cell]]:
    for obj in qs.iterator(chunk_size=EXPORT_CHUNK):
        yield row(obj)


def export(
    spec: ListSpec, request: HttpRequest, qs: QuerySet[Any], fmt: str
) -> StreamingHttpResponse | FileResponse:
    """Every row the reader's search and filters match, in the page's order, as a download.

    ``qs`` is the scoped queryset (before :func:`apply`); its ``select_related`` keeps one query
    per chunk."""
    assert spec.export_row is not None
    state = ListState.from_request(spec, request)
    ordered = apply(spec, state, qs)
    rows = _rows(ordered, spec.export_row)
    if fmt == "xlsx":
        return _xlsx(spec, rows)

    def lines() -> Iterator[str]:
        yield "\ufeff" + spreadsheets.csv_text([spec.export_header])
        for values in rows:
            yield spreadsheets.csv_text([values])

    response = StreamingHttpResponse(lines(), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{spec.export_name}.csv"'
    return response


def _xlsx(spec: ListSpec, rows: Iterator[Sequence[spreadsheets.Cell]]) -> FileResponse:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    sheet = book.create_sheet(spec.export_name[:31] or "export")

    def cells(values: Sequence[spreadsheets.Cell]) -> list[Any]:
        out = []
        for value in spreadsheets.row(values):
            written = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                written.data_type = "s"  # "'=…" stays text, never a formula
            elif isinstance(value, Decimal):
                written.number_format = spreadsheets.AMOUNT_FORMAT
            out.append(written)
        return out

    sheet.append(cells(list(spec.export_header)))
    for values in rows:
        sheet.append(cells(values))
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    book.save(spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=f"{spec.export_name}.xlsx", content_type=XLSX_TYPE
    )


def response_or_page(
    spec: ListSpec, request: HttpRequest, qs: QuerySet[Any]
) -> StreamingHttpResponse | FileResponse | ListPage:
    """The export the reader asked for, or the page to render."""
    fmt = export_format(request)
    if fmt and spec.export_name and spec.export_row is not None:
        return export(spec, request, qs, fmt)
    return list_page(spec, request, qs)


def ids_from(request: HttpRequest, name: str = "ids", limit: int = 500) -> list[int]:
    """The selected rows' ids of a bulk form (integers only, duplicates dropped, at most
    ``limit``)."""
    out: list[int] = []
    for raw in request.POST.getlist(name):
        if raw.isdigit() and int(raw) not in out:
            out.append(int(raw))
    return out[:limit]


def api_state(
    spec: ListSpec, *, cursor: str, per_page: int, scope: Mapping[str, str] | None = None
) -> ListState:
    """The state of one page of an API list (no sort or filter choices: the spec's default order):
    ``per_page`` rows after the signed ``cursor`` of the page before (empty: the first page).
    ``scope`` binds the cursor to what the list is of (e.g. one bill): a cursor made for another
    scope, order or page size, garbled or edited, gives ``cursor_invalid`` — the API answers it
    with a 400, not with a first page the caller would take for the next one."""
    state = ListState(sort=spec.default_sort, per_page=per_page, kept=dict(scope or {}))
    if not cursor:
        return state
    payload = _read_cursor(cursor, state)
    if payload is None:
        return replace(state, cursor_invalid=True)
    page, direction, key = payload
    return replace(state, page=page, cursor=cursor, direction=direction, key=key)


__all__ = [
    "Column",
    "Filter",
    "ListPage",
    "ListSpec",
    "ListState",
    "api_state",
    "export",
    "ids_from",
    "list_page",
    "paginate",
    "response_or_page",
]
