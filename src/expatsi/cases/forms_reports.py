"""The public report form (views_reports.py): it parses input, shows the refusals of
public_reports.py in the reader's language, and carries the honeypot."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from expatsi.cases.dispute_messages import message_for
from expatsi.cases.models import ReportCategory
from expatsi.cases.public_reports import DESCRIPTION_MAX, DESCRIPTION_MIN, NAME_MAX
from expatsi.rules.errors import RuleError
from expatsi.rules.regions import regions
from expatsi.web.forms import PortalForm

HONEYPOT = "website"

MESSAGES: dict[str, Promise] = {
    "rate_limited": _("Too many reports from your address: try again in an hour."),
    "employer_required": _("Give the employer's name or its unified social credit code."),
    "unknown_employer_name": _(
        "No registered employer has exactly this name: give its unified social credit code."
    ),
    "ambiguous_employer_name": _(
        "Several employers have this name: give its unified social credit code."
    ),
    "invalid_category": _("Choose what happens."),
    "invalid_region": _("Choose a region from the list, or none."),
    "invalid_email": _("Enter an e-mail address, or leave it empty."),
    "anonymous_with_contact": _(
        "An anonymous report keeps no contact: leave the e-mail address empty, or untick "
        "“Report anonymously” to receive the reply."
    ),
    "description_too_short": _("Describe what happens in a few more words."),
    "required": _("Describe what happens."),
    "honeypot": _(
        "Your report could not be accepted. Send it again without filling in hidden fields."
    ),
}


def report_message(code: str, fallback: str) -> str:
    found = MESSAGES.get(code)
    return str(found) if found is not None else message_for(code, fallback)


def region_choices() -> list[tuple[str, Any]]:
    zh = (get_language() or "").startswith("zh")
    items = sorted(
        ((r.code, r.name_zh if zh else r.name) for r in regions().values()), key=lambda i: i[0]
    )
    return [("", _("Not given")), *items]


class PublicReportForm(PortalForm):
    field_aliases: ClassVar[dict[str, str]] = {"region_code": "region", "email": "email"}
    identifier_fields = ("uscc",)

    employer_name = forms.CharField(
        label=_("Name of the employer"),
        max_length=NAME_MAX,
        required=False,
        help_text=_("As registered. If you know it, give the credit code below instead."),
    )
    uscc = forms.CharField(
        label=_("Unified social credit code of the employer"),
        max_length=18,
        required=False,
        help_text=_("The 18-character code on the employer's business licence."),
    )
    region = forms.ChoiceField(label=_("City or province"), required=False)
    category = forms.ChoiceField(
        label=_("What happens"), choices=ReportCategory.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("Describe what happens"),
        max_length=DESCRIPTION_MAX,
        min_length=DESCRIPTION_MIN,
        help_text=_("Who is affected, since when, what you saw. At most 4,000 characters."),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        required=False,
        max_length=254,
        help_text=_("For the acknowledgement and the agency's reply. Only the agency sees it."),
    )
    anonymous = forms.BooleanField(
        label=_("Report anonymously"),
        required=False,
        help_text=_("Nothing about you is kept, and so no reply can reach you."),
    )
    # The honeypot: hidden from people (and from screen readers); a program filling in every
    # field fills it in too.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = region_choices()

    def visible_fields_but_honeypot(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != HONEYPOT]

    def add_rule_error(self, exc: RuleError) -> None:
        name = self.field_aliases.get(exc.field) or exc.field
        self.add_error(name if name in self.fields else None, report_message(exc.code, exc.message))
