"""One way to show a list of records: search, filters, sortable columns, paging and exports.

Every list page (registrations, the agency's queues, the HR home list, the audit trail, cards)
declares a :class:`ListSpec` — its columns, which of them sort and by which indexed fields, its
filters and their choices — and hands the toolkit a queryset that its selector has already scoped
to the reader. The toolkit never widens that queryset; it only narrows, orders and slices it.

Why this shape, at a million rows:

- **Sorting is whitelisted.** ``?sort=`` names a column key, never a field; an unknown key falls
  back to the default. Each order ends in ``pk`` so paging is stable.
- **No COUNT(*) over the table.** A page fetches ``per_page + 1`` rows to know whether there is a
  next page, and the match count is bounded (``COUNT`` over at most :data:`COUNT_CAP` rows: "more
  than 1,000"). Both cost one query each, whatever the table's size.
- **Exports are what the filters show**, every matching row (not only the page), streamed: CSV
  row by row from a server-side cursor, XLSX through openpyxl's write-only mode. Cells go through
  :mod:`expatsi.spreadsheets`, so no text becomes a formula.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from expatsi import spreadsheets

PER_PAGE = 50
PER_PAGE_CHOICES = (25, 50, 100, 200)
COUNT_CAP = 1000
MAX_PAGE = 10_000  # deeper than anyone reads; a narrower filter is the way there
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
    """What the reader asked for, every value checked against the spec."""

    query: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    sort: str = ""
    page: int = 1
    per_page: int = PER_PAGE
    kept: Mapping[str, str] = field(default_factory=dict)

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
            page = min(max(int(get.get("page", "1")), 1), MAX_PAGE)
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
        return cls(query, filters, sort, page, per_page, kept)

    def params(self, **changes: Any) -> dict[str, str]:
        """The query parameters of this state, with ``changes`` (None drops one)."""
        out: dict[str, str] = dict(self.kept)
        if self.query:
            out["q"] = self.query
        out.update(self.filters)
        out["sort"] = self.sort
        if self.per_page != PER_PAGE:
            out["per_page"] = str(self.per_page)
        if self.page != 1:
            out["page"] = str(self.page)
        for key, value in changes.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = str(value)
        return out

    def url(self, **changes: Any) -> str:
        return "?" + urlencode(self.params(**changes))


def apply(spec: ListSpec, state: ListState, qs: QuerySet[Any]) -> QuerySet[Any]:
    """The reader's search, filters and order on ``qs`` (already scoped by its selector)."""
    if state.query and spec.search is not None:
        qs = spec.search(qs, state.query)
    for f in spec.filters:
        value = state.filters.get(f.name)
        if value:
            qs = f.apply(qs, value)
    column = spec.column(state.sort.removeprefix("-"))
    assert column is not None  # ListState.from_request whitelisted it
    descending = state.sort.startswith("-")
    reverse = [o[1:] if o.startswith("-") else f"-{o}" for o in column.order]
    fields = reverse if descending else list(column.order)
    tie = "-pk" if descending else "pk"
    return qs.order_by(*fields, tie)


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
        return self.state.url(page=self.state.page + 1)

    @property
    def previous_url(self) -> str:
        return self.state.url(page=self.state.page - 1 if self.state.page > 2 else None)

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


def paginate(spec: ListSpec, state: ListState, qs: QuerySet[Any]) -> ListPage:
    """One page of ``qs`` (already through :func:`apply`): ``per_page + 1`` rows fetched, and a
    count bounded by :data:`COUNT_CAP` — two queries, whatever the size of the table."""
    start = (state.page - 1) * state.per_page
    rows = list(qs[start : start + state.per_page + 1])
    has_next = len(rows) > state.per_page
    count = qs.order_by()[: COUNT_CAP + 1].count()
    return ListPage(
        spec,
        state,
        rows[: state.per_page],
        has_next,
        count,
        _headers(spec, state),
        export=bool(spec.export_name and spec.export_row),
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


__all__ = [
    "Column",
    "Filter",
    "ListPage",
    "ListSpec",
    "ListState",
    "export",
    "ids_from",
    "list_page",
    "paginate",
    "response_or_page",
]
