"""Public REST API to report an employer, under ``/api/v1/reports``: anyone, without credentials
(public_reports.py, the same service as the public page).

``POST /api/v1/reports`` answers 201 with the report's reference number and the day the agency
replies by; 400 with ``field`` naming the input at fault (an unknown category, a credit code whose
check character is wrong, a description that is empty or too short, an address that is not one,
an employer that is not registered); 429 ``rate_limited`` with Retry-After once the client
address has spent its hourly budget. The agency follows the report in ``/api/v1/cases/complaints``.

Thin: schema in → one service call → schema out.
"""

from datetime import date
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from expatsi.access.actors import client_ip
from expatsi.access.openapi import ErrorOut
from expatsi.access.validation import Text
from expatsi.cases import public_reports
from expatsi.cases.models import Complaint, ReportCategory

reports_router = Router(tags=["reports"])

CATEGORIES = ", ".join(f"`{c}`" for c in ReportCategory.values)


class PublicReportIn(Schema):
    employer_name: Annotated[str, Text(200)] = Field(
        "", description="the employer's registered name (when the credit code is not known)"
    )
    uscc: Annotated[str, Text(18)] = Field(
        "", description="the employer's unified social credit code; decides over the name"
    )
    region_code: Annotated[str, Text(6)] = Field(
        "", description="where it happens: a region code of `/api/v1/rules/regions`, optional"
    )
    category: Annotated[str, Text(24)] = Field(description=f"what happens: one of {CATEGORIES}")
    description: Annotated[str, Text(4000, multiline=True)] = Field(
        description="what happens, in your words (20 to 4,000 characters)"
    )
    email: Annotated[str, Text(254)] = Field(
        "", description="for the acknowledgement and the reply; only agency staff see it"
    )
    anonymous: bool = Field(False, description="keep no contact (then leave `email` empty)")


class PublicReportOut(Schema):
    number: str = Field(description="the reference number to quote")
    received_on: date
    reply_due: date = Field(description="the agency replies by this day (complaint_reply clock)")
    acknowledgement: bool = Field(description="an acknowledgement goes to the address given")

    @staticmethod
    def resolve_acknowledgement(obj: Complaint) -> bool:
        return bool(obj.contact_email)


@reports_router.post("", response={201: PublicReportOut, 400: ErrorOut, 429: ErrorOut})
def report_file(request: HttpRequest, payload: PublicReportIn) -> Status[Complaint]:
    """Report an employer, without an account. Public and rate limited per client address (429
    ``rate_limited``)."""
    complaint = public_reports.report_file_public(
        reporter=public_reports.Reporter(ip=client_ip(request), via="api"),
        category=payload.category,
        description=payload.description,
        employer_name=payload.employer_name,
        uscc=payload.uscc,
        region_code=payload.region_code,
        email=payload.email,
        anonymous=payload.anonymous,
    )
    return Status(201, complaint)
