"""What the billing API's schemas share: money and rates as text, and a figure's source.

An amount read from the domain in integer fen is shown as yuan with two decimals (``Yuan``), a rate
in parts per million as a percentage (``Rate``); the OpenAPI document sees plain strings.
"""

from typing import Annotated

from ninja import Schema
from pydantic import BeforeValidator

from expatsi.billing.provenance import Figure
from expatsi.rules.money import format_rate, format_yuan


def _yuan(value: object) -> object:
    return format_yuan(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _rate(value: object) -> object:
    return format_rate(value) if isinstance(value, int) and not isinstance(value, bool) else value


Yuan = Annotated[str, BeforeValidator(_yuan)]
OptionalYuan = Annotated[str | None, BeforeValidator(_yuan)]
Rate = Annotated[str, BeforeValidator(_rate)]


class PolicySourceOut(Schema):
    # from expatsi.billing.provenance.Figure.
    covers: list[str]  # limits, an insurance, work_injury_default, agreement:<country>, due_date
    status: str
    status_text: str  # the status in words, in the request's language
    source: str
    url: str  # the source's web address, "" if it has none

    @staticmethod
    def resolve_status_text(figure: Figure) -> str:
        return figure.label
