"""Form base classes every context's pages share.

Errors are rendered next to their fields (``<id>_error``, which Django links with
``aria-describedby`` and ``aria-invalid``) and listed in a summary at the top of the form.
Validation of substance lives in the services; forms parse input and show errors.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import get_language

from expatsi.access import validation
from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import countries
from expatsi.web.errors import rule_message


def country_choices(blank_label: str) -> list[tuple[str, str]]:
    """Countries by name in the active language, with the ISO code shown."""
    zh = (get_language() or "").startswith("zh")
    items = [(c.alpha3, f"{c.name_zh if zh else c.name} ({c.alpha3})") for c in countries()]
    items.sort(key=lambda item: item[1])
    return [("", blank_label), *items]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PortalForm(forms.Form):
    """Adds the error summary (field label, anchor, message) and maps RuleError to a field.

    Every text field gets the shared control-character check (one line unless its widget is a
    text area) and every date field the plausible-date window, so a bad value is marked on its
    field before any service sees it (access/validation.py; the services check again).
    """

    template_name = "web/forms/form.html"
    field_aliases: ClassVar[dict[str, str]] = {}
    identifier_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            extra: list[Any] = []
            if isinstance(field, forms.CharField):
                multiline = isinstance(field.widget, forms.Textarea)
                extra.append(validation.multi_line if multiline else validation.single_line)
                if name in self.identifier_fields:
                    extra.append(validation.ascii_identifier)
            elif isinstance(field, forms.DateField):
                extra.append(validation.form_date)
            field.validators = [*field.validators, *extra]

    def error_summary(self) -> list[tuple[str, str, str]]:
        items: list[tuple[str, str, str]] = []
        for name, errors in self.errors.items():
            if name == NON_FIELD_ERRORS:
                items.extend(("", "", str(e)) for e in errors)
                continue
            bound = self[name]
            items.extend((str(bound.label), f"#{bound.auto_id}", str(e)) for e in errors)
        return items

    def field_for_rule(self, field: str) -> str:
        """The form field a service's RuleError.field means ('' when the names agree). A context
        whose services name fields differently (e.g. the hire import's columns) overrides this,
        so the base imports no context."""
        return ""

    def add_rule_error(self, exc: RuleError) -> None:
        name = self.field_aliases.get(exc.field) or self.field_for_rule(exc.field) or exc.field
        self.add_error(name if name in self.fields else None, rule_message(exc.code, exc.message))
