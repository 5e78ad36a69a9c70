"""Billing forms: parse input and show errors; the services decide what is allowed."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from expatsi.employers.display import display_name
from expatsi.rules.regions import regions
from expatsi.web.forms import DateInput, PortalForm

MONTH_HELP = _("Year and month, e.g. 2025-08.")


class MonthField(forms.CharField):
    """YYYY-MM; checked further by the rules (``Month.parse``) in the service."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("help_text", MONTH_HELP)
        super().__init__(**kwargs)
        self.widget = forms.TextInput(
            attrs={"inputmode": "numeric", "pattern": r"\d{4}-\d{2}", "placeholder": "YYYY-MM"}
        )


def yuan_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **kwargs,
    )


def region_choices() -> list[tuple[str, str]]:
    from django.utils.translation import get_language

    zh = (get_language() or "").startswith("zh")
    return [
        (code, f"{r.name_zh if zh else r.name} ({code})") for code, r in sorted(regions().items())
    ]


class PeriodForm(forms.Form):
    """Which employer and contribution year the declarations page shows."""

    employer = forms.TypedChoiceField(label=_("Employer"), coerce=int)
    period = MonthField(label=_("Contribution year containing the month"))

    def __init__(self, *args: Any, employers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["employer"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(e.pk, display_name(e)) for e in employers]


class DeclarationForm(PortalForm):
    field_aliases: ClassVar[dict[str, str]] = {"period_start": "period", "person_id": "person"}

    person = forms.IntegerField(widget=forms.HiddenInput())
    period = forms.CharField(widget=forms.HiddenInput())
    wage = yuan_field(
        _("Declared monthly wage (yuan)"),
        help_text=_(
            "The base is this wage raised to the lower limit or capped at the upper limit."
        ),
    )


class UploadForm(PortalForm):
    file = forms.FileField(
        label=_("File (.csv or .xlsx)"),
        help_text=_("Columns: passport_country, passport_number, period_start, wage (yuan)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


class BankStatementForm(PortalForm):
    file = forms.FileField(
        label=_("Bank statement (.csv, UTF-8)"),
        help_text=_("Columns: transaction_id, date, amount, payer_uscc, reference."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv"}),
    )


class PaymentForm(PortalForm):
    field_aliases: ClassVar[dict[str, str]] = {"bill": "bill_number", "employer_id": "employer"}

    employer = forms.TypedChoiceField(label=_("Employer"), coerce=int, required=False)
    bill_number = forms.CharField(
        label=_("Bill number"),
        max_length=32,
        required=False,
        help_text=_(
            "Leave empty to match by the bank reference, then by amount, then the oldest bill."
        ),
    )
    amount = yuan_field(_("Amount received (yuan)"), min_value=0)
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())
    reference = forms.CharField(label=_("Bank reference"), max_length=100, required=False)

    def __init__(self, *args: Any, employers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["employer"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *((e.pk, f"{display_name(e)} ({e.uscc})") for e in employers)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("employer") and not data.get("bill_number"):
            self.add_error("employer", _("Choose the employer or give the bill number."))
        return data


class RunForm(PortalForm):
    field_aliases: ClassVar[dict[str, str]] = {"region": "region_code"}

    kind = forms.ChoiceField(
        label=_("What to run"),
        choices=[
            ("run", _("Monthly billing run")),
            ("recalculate", _("Recalculation after a policy change (adjustment bills)")),
        ],
        widget=forms.RadioSelect,
        initial="run",
    )
    region_code = forms.ChoiceField(label=_("Region"))
    month = MonthField(label=_("Month (for a recalculation: the first month)"))
    to_month = MonthField(label=_("Last month (recalculation only)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = region_choices()
