"""The signed-in employee's own record: contributions per month, the individual account, and the
pension outlook."""

# No ``from __future__ import annotations``: ninja reads the query parameters of paginated views
# through a wrapper living in another module, where string annotations would not resolve.
from datetime import date

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from expatsi.access.auth import Pagination, request_actor
from expatsi.billing import permissions, provenance, retirement, selectors
from expatsi.billing.api.schemas import OptionalYuan, PolicySourceOut, Rate, Yuan
from expatsi.rules.accounts import YearRecord
from expatsi.rules.errors import NotFound

router = Router()


class ContributionOut(Schema):
    # from expatsi.billing.selectors.ContributionMonth.
    month: str
    employer_id: int
    employer_name: str
    pension_base: Yuan
    pension_employer: Yuan
    pension_employee: Yuan
    employer_total: Yuan
    employee_total: Yuan
    adjusted: bool
    exempt: list[str]
    status: str  # the weakest status of the figures behind the month's amounts
    status_text: str = Field(alias="status_label")
    sources: list[PolicySourceOut]


class AccountYearOut(Schema):
    # from expatsi.rules.accounts.YearRecord.
    year: int
    opening: Yuan
    credits: Yuan
    interest: Yuan
    closing: Yuan
    rate: Rate = Field(alias="rate_ppm")
    rate_year: int
    months_counted: int
    provisional: bool
    status: str
    status_text: str
    explanation: str

    @staticmethod
    def resolve_status(year: YearRecord) -> str:
        return year.status.value

    @staticmethod
    def resolve_status_text(year: YearRecord) -> str:
        return provenance.status_label(year.status.value)


class AccountOut(Schema):
    # from expatsi.billing.selectors.Account.
    person_id: int
    on: date
    months_counted: int
    balance: Yuan = Field(alias="statement.balance")
    provisional: bool = Field(alias="statement.provisional")
    status: str  # the weakest of the crediting rates used and the method
    status_text: str
    sources: list[PolicySourceOut]
    years: list[AccountYearOut] = Field(alias="statement.years")
    explanation: list[str] = Field(alias="statement.explanation")

    @staticmethod
    def resolve_status(account: selectors.Account) -> str:
        return account.statement.status.value

    @staticmethod
    def resolve_status_text(account: selectors.Account) -> str:
        return provenance.status_label(account.statement.status.value)

    @staticmethod
    def resolve_sources(account: selectors.Account) -> list[provenance.Figure]:
        return provenance.statement_sources(account.statement)


class PensionLineOut(Schema):
    # from expatsi.billing.retirement.Line.
    key: str
    label: str
    value: str  # yuan with two decimals for money lines, else the figure as text
    money: bool
    status: str
    status_text: str
    explanation: list[str]

    @staticmethod
    def resolve_money(line: retirement.Line) -> bool:
        return line.amount is not None

    @staticmethod
    def resolve_status(line: retirement.Line) -> str:
        return line.status.value


class PensionOut(Schema):
    # from expatsi.billing.retirement.Projection.
    person_id: int
    on: date
    retirement_month: str
    retirement_age: str = Field(alias="retirement.age_text")  # e.g. 63y or 60y3m
    min_contribution_months: int = Field(alias="retirement.min_contribution_months")
    months_so_far: int
    months_still_needed: int
    projected_months: int
    index: str
    projected_balance: Yuan
    basic_pension: OptionalYuan
    account_pension: OptionalYuan
    total: OptionalYuan
    note: str  # why no pension is projected, when none is
    status: str  # the weakest status of every figure used
    status_text: str
    lines: list[PensionLineOut]

    @staticmethod
    def resolve_retirement_month(p: retirement.Projection) -> str:
        return str(p.retirement.retirement_month)

    @staticmethod
    def resolve_index(p: retirement.Projection) -> str:
        return str(p.index)

    @staticmethod
    def resolve_basic_pension(p: retirement.Projection) -> int | None:
        return p.award.basic_pension if p.award else None

    @staticmethod
    def resolve_account_pension(p: retirement.Projection) -> int | None:
        return p.award.account_pension if p.award else None

    @staticmethod
    def resolve_total(p: retirement.Projection) -> int | None:
        return p.award.total if p.award else None

    @staticmethod
    def resolve_status(p: retirement.Projection) -> str:
        return p.status.value


@router.get("/me/contributions", response=list[ContributionOut])
@paginate(Pagination)
def my_contributions(request: HttpRequest) -> list[selectors.ContributionMonth]:
    """The signed-in employee's contributions per month and employer, newest first."""
    return selectors.my_contributions(request_actor(request))


@router.get("/me/account", response=AccountOut)
def my_account(request: HttpRequest, on: date | None = None) -> selectors.Account:
    """Months counted and the individual account statement by year on ``on`` (default today)."""
    return selectors.my_account(request_actor(request), on)


@router.get("/me/pension", response=PensionOut)
def my_pension(request: HttpRequest, on: date | None = None) -> retirement.Projection:
    """Retirement month and age, contribution months so far and still needed, and the projected
    monthly pension (basic + individual account) on ``on`` (default today), every figure with its
    status and its arithmetic. The signed-in employee's own only; anyone else gets 404."""
    actor = request_actor(request)
    if not permissions.has_own_record(actor):
        raise NotFound("not_found", "no pension outlook that you may see", "person_id")
    return retirement.projection(actor, on)
