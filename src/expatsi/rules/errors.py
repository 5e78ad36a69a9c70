"""The one domain error type, mapped to HTTP 4xx, form errors and CLI exit codes in one place each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class RuleError(ValueError):
    """Bad input or a question the rules cannot answer (no policy for a month, unknown region…).

    ``code`` is stable and machine-readable, ``field`` names the input at fault (or is empty),
    ``message`` says what is wrong and what is accepted. ``status`` is the HTTP status it maps to.
    """

    status = 400

    def __init__(
        self, code: str, message: str, field: str = "", params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        # the specifics of ``message`` (a day, row numbers) for a translated sentence per code
        self.params: Mapping[str, object] = params or {}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class NotFound(RuleError):
    """The object does not exist, or the actor may not know that it does (never leak other tenants)."""

    status = 404


class Forbidden(RuleError):
    """The actor is known and the object visible, but this action is not theirs to take."""

    status = 403


class Conflict(RuleError):
    """The request clashes with the current state (a duplicate, a transition from the wrong state)."""

    status = 409


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row of an imported file: what every import reports before writing."""

    row: int
    column: str
    message: str
    code: str = ""
    params: Mapping[str, object] = field(default_factory=dict)


class PolicyDataError(Exception):
    """A policy data file is malformed; names the file and the field. Raised at start-up."""

    def __init__(self, file: str, field: str, message: str) -> None:
        super().__init__(f"{file}: {field}: {message}")
        self.file = file
        self.field = field
        self.message = message
