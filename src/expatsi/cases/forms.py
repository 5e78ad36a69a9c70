"""Forms of the compliance pages: they parse input and show errors; the services decide."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from expatsi.cases.messages import message_for
from expatsi.employers.display import display_name
from expatsi.rules.errors import RuleError
from expatsi.rules.money import parse_yuan
from expatsi.web.forms import DateInput, PortalForm

REASON_MAX = 500


class CasesForm(PortalForm):
    """Shows this context's refusals in the reader's language (messages.py)."""

    def add_rule_error(self, exc: RuleError) -> None:
        name = self.field_aliases.get(exc.field) or exc.field
        self.add_error(
            name if name in self.fields else None, message_for(exc.code, exc.message, exc.params)
        )


def _reason(label: Any, *, required: bool = True, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=REASON_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ScanForm(CasesForm):
    field_aliases: ClassVar[dict[str, str]] = {
        "region_code": "region",
        "employer_id": "employer",
        "as_of": "as_of",
    }

    region = forms.ChoiceField(label=_("Region"), required=False)
    # A drop-down while the reader's employers fit in one; past that (a region has tens of
    # thousands) the unified social credit code is typed. Either way the view's ``lookup`` turns
    # the value into an employer the reader may scan, or the field says there is none.
    employer = forms.CharField(label=_("Employer"), required=False, max_length=18)
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty for today."),
    )

    def __init__(
        self,
        *args: Any,
        regions: list[tuple[str, str]],
        employers: list[Any],
        more: bool = False,
        lookup: Callable[[str], int | None] = lambda raw: None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lookup = lookup
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = [("", _("All my regions")), *regions]
        employer = self.fields["employer"]
        if more:
            employer.label = _("Employer's unified social credit code")
            employer.help_text = _("Leave empty for every employer of the region.")
        else:
            employer.widget = forms.Select(
                choices=[("", _("All employers")), *((e.pk, display_name(e)) for e in employers)]
            )

    def clean_employer(self) -> int | None:
        raw = str(self.cleaned_data.get("employer") or "").strip()
        if not raw:
            return None
        found = self.lookup(raw)
        if found is None:
            raise forms.ValidationError(
                _("No employer with this code in your regions."), code="unknown_employer"
            )
        return found


class ReviewForm(CasesForm):
    reason = _reason(
        _("Reason"),
        required=False,
        help_text=_("Required to dismiss: it is kept with the finding and in the audit trail."),
    )


class OpenCaseForm(CasesForm):
    field_aliases: ClassVar[dict[str, str]] = {"finding_ids": "findings"}

    findings = forms.TypedMultipleChoiceField(
        label=_("Findings to include"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["findings"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = choices


class OrderForm(CasesForm):
    deadline = forms.DateField(
        label=_("Rectify by"),
        widget=DateInput(),
        help_text=_("The time limit set in the order; at most one year from today."),
    )
    requirements = _reason(
        _("What the employer must do"),
        required=False,
        help_text=_("Printed in the order under the findings, as written."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"deadline": timezone.localdate() + timedelta(days=30)})
        super().__init__(*args, **kwargs)


class FineForm(CasesForm):
    kind = forms.ChoiceField(label=_("Fine"))
    amount = forms.CharField(
        label=_("Amount (yuan)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Within the legal range shown for this fine."),
    )
    persons = forms.IntegerField(
        label=_("Directly responsible persons"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=_("Only for the fine on directly responsible persons."),
    )
    reason = _reason(_("Reasons"))

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["kind"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = kinds

    def clean_amount(self) -> int:
        try:
            return parse_yuan(self.cleaned_data["amount"], field="amount")
        except RuleError as exc:
            raise forms.ValidationError(message_for(exc.code, exc.message)) from None


class DecisionForm(CasesForm):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[("fine", _("Impose the fines proposed")), ("no_fine", _("No fine"))],
        widget=forms.RadioSelect,
    )
    reason = _reason(_("Reasons"))


class CloseForm(CasesForm):
    reason = _reason(_("Why the case is settled"))
