"""Base declarations: the contribution year's bases of an employer's employees, one declared, or a
file of them."""

# No ``from __future__ import annotations``: ninja reads the query parameters of paginated views
# through a wrapper living in another module, where string annotations would not resolve.
from typing import Literal

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from expatsi.access.auth import Pagination, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Id
from expatsi.billing import declarations
from expatsi.billing.api.schemas import OptionalYuan, Yuan
from expatsi.employers.selectors import employer_get
from expatsi.insurance.selectors import person_get
from expatsi.rules.dates import Month
from expatsi.rules.money import parse_yuan
from expatsi.web.uploads import upload_read

router = Router()


class InsuranceBaseOut(Schema):
    # from expatsi.billing.declarations.InsuranceBase.
    insurance: str
    base: Yuan
    base_reason: str = Field(alias="reason")
    lower_limit: Yuan = Field(alias="lower")
    upper_limit: Yuan = Field(alias="upper")


class DeclarationOut(Schema):
    # from expatsi.billing.declarations.DeclarationView.
    person_id: int = Field(alias="person.pk")
    person_name: str = Field(alias="person.full_name")
    employer_id: int = Field(alias="employer.pk")
    period_start: str
    period_end: str
    declared_wage: OptionalYuan = Field(alias="declared")
    contract_wage: OptionalYuan
    wage: Yuan  # what the run uses: the declaration, else the contract wage
    source: Literal["declared", "contract"]
    base: Yuan = Field(alias="pension.base")  # pension base after the limits
    base_reason: str = Field(alias="pension.reason")
    bases: list[InsuranceBaseOut]


class DeclarationIn(Schema):
    employer_id: int
    person_id: int
    period_start: str  # YYYY-MM: any month of the contribution year
    wage: str  # yuan a month


class DeclarationRowErrorOut(Schema):
    # from expatsi.rules.errors.RowError.
    row: int
    column: str
    code: str
    message: str


class DeclarationRowOut(Schema):
    # from expatsi.billing.declarations.RowResult.
    row: int
    status: str
    person_id: int
    name: str
    period_start: str
    wage: Yuan
    base: Yuan
    base_reason: str = Field(alias="reason")


class DeclarationImportOut(Schema):
    # from expatsi.billing.declarations.DeclarationImport.
    dry_run: bool
    committed: bool
    declared: int
    unchanged: int
    rows: list[DeclarationRowOut] = Field(alias="results")
    errors: list[DeclarationRowErrorOut]


@router.get("/declarations", response=list[DeclarationOut])
@paginate(Pagination)
def declaration_list(
    request: HttpRequest, employer_id: Id, period: str
) -> list[declarations.DeclarationView]:
    """Every employee of the employer in the contribution year covering ``period`` (YYYY-MM), with
    the base the billing run will use: the declaration, else the contract wage, after the limits."""
    actor = request_actor(request)
    employer = employer_get(actor=actor, employer_id=employer_id)
    return declarations.declaration_views(
        actor=actor, employer=employer, period_start=Month.parse(period, field="period")
    )


@router.post("/declarations", response={201: DeclarationOut})
@idempotent()
def declaration_create(
    request: HttpRequest, payload: DeclarationIn
) -> Status[declarations.DeclarationView]:
    """Declare or correct one employee's base for a contribution year (the employer's HR or agency)."""
    actor = request_actor(request)
    employer = employer_get(actor=actor, employer_id=payload.employer_id)
    declarations.may_declare(actor, employer)
    person = person_get(actor=actor, person_id=payload.person_id, audit=False)
    month = Month.parse(payload.period_start, field="period_start")
    declarations.declaration_set(
        actor=actor,
        person=person,
        employer=employer,
        period_start=month,
        wage=parse_yuan(payload.wage, field="wage", allow_negative=True),
        source="api",
    )
    view = declarations.declaration_view(
        actor=actor, person=person, employer=employer, period_start=month
    )
    return Status(201, view)


@router.post(
    "/declarations/import", response={200: DeclarationImportOut, 201: DeclarationImportOut}
)
@idempotent()
def declaration_import(
    request: HttpRequest,
    employer_id: Form[int],
    file: File[UploadedFile],
    dry_run: Form[bool] = True,
) -> Status[declarations.DeclarationImport]:
    """CSV or XLSX with ``passport_country,passport_number,period_start,wage``. Every row is checked;
    with ``dry_run`` (the default) or any row error nothing is written (200); else all rows are
    declared at once (201). Sending the same file again declares nothing twice."""
    actor = request_actor(request)
    employer = employer_get(actor=actor, employer_id=employer_id)
    upload = upload_read(file)
    report = declarations.declarations_import(
        actor=actor, employer=employer, filename=upload.name, data=upload.data, dry_run=dry_run
    )
    return Status(201 if report.committed else 200, report)
