"""Forms of the dispute and complaint pages: they parse input and show errors; the services decide."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from expatsi.cases.dispute_messages import message_for
from expatsi.cases.models import ComplaintKind, DisputeOutcome, DisputeStage, DisputeSubject
from expatsi.rules.errors import RuleError
from expatsi.rules.money import parse_yuan
from expatsi.web.forms import DateInput, PortalForm


class ClaimsForm(PortalForm):
    """Shows the refusals of disputes.py and complaints.py in the reader's language."""

    def add_rule_error(self, exc: RuleError) -> None:
        name = self.field_aliases.get(exc.field) or exc.field
        self.add_error(
            name if name in self.fields else None, message_for(exc.code, exc.message, exc.params)
        )


def _text(label: Any, max_length: int, *, rows: int = 4, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class DisputeOpenForm(ClaimsForm):
    field_aliases: ClassVar[dict[str, str]] = {
        "employer_id": "employer",
        "person_id": "person",
    }

    employer = forms.TypedChoiceField(label=_("Employer"), coerce=int)
    person = forms.TypedChoiceField(label=_("Foreign employee"), coerce=int)
    subject_kind = forms.ChoiceField(
        label=_("What the dispute is about"),
        choices=DisputeSubject.choices,
        widget=forms.RadioSelect,
    )
    subject_id = forms.IntegerField(
        label=_("Number of the bill, bill line or decision"),
        required=False,
        min_value=1,
        help_text=_(
            "The number shown on the bill, its line, the registration or the card decision."
        ),
    )
    claim = _text(_("The claim"), 2000, rows=6)
    stage = forms.ChoiceField(label=_("Stage"), choices=DisputeStage.choices)
    stage_on = forms.DateField(
        label=_("Stage began on"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty for today."),
    )

    def __init__(
        self,
        *args: Any,
        employers: list[tuple[int, str]],
        people: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        employer = self.fields["employer"]
        assert isinstance(employer, forms.TypedChoiceField)
        employer.choices = employers
        person = self.fields["person"]
        assert isinstance(person, forms.TypedChoiceField)
        person.choices = people


class StageForm(ClaimsForm):
    field_aliases: ClassVar[dict[str, str]] = {"stage_on": "stage_on"}

    stage = forms.ChoiceField(label=_("Next stage"), choices=DisputeStage.choices)
    stage_on = forms.DateField(
        label=_("Began on"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty for today."),
    )

    def __init__(self, *args: Any, after: str = "", **kwargs: Any) -> None:
        """``after``: the present stage; only the one after it is offered (the service refuses
        any other anyway)."""
        super().__init__(*args, **kwargs)
        stages = list(DisputeStage.choices)
        codes = [code for code, _label in stages]
        if after in codes:
            field = self.fields["stage"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = stages[codes.index(after) + 1 : codes.index(after) + 2]


class DocumentForm(ClaimsForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    file = forms.FileField(label=_("File (PDF, JPEG or PNG, at most 5 MB)"))


class DisputeDecisionForm(ClaimsForm):
    field_aliases: ClassVar[dict[str, str]] = {"decided_on": "decided_on"}

    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=DisputeOutcome.choices, widget=forms.RadioSelect
    )
    text = _text(_("The agreement, award or judgment, in words"), 2000)
    decided_on = forms.DateField(
        label=_("Decided on"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty for today."),
    )


class CorrectionForm(ClaimsForm):
    """One line at a time from the page (the API takes several)."""

    field_aliases: ClassVar[dict[str, str]] = {
        "lines": "line",
        "employer_amount": "employer_amount",
    }

    line = forms.TypedChoiceField(label=_("Bill line"), coerce=int)
    employer_amount = forms.CharField(
        label=_("Employer's share as decided (yuan)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    employee_amount = forms.CharField(
        label=_("Employee's share as decided (yuan)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    base = forms.CharField(
        label=_("Contribution base as decided (yuan)"),
        max_length=20,
        required=False,
        help_text=_("Leave empty if the decision leaves the base as it was."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    reason = _text(_("Reasons"), 300, rows=3)

    def __init__(self, *args: Any, lines: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["line"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = lines

    def _yuan(self, name: str) -> int:
        try:
            return parse_yuan(self.cleaned_data[name], field=name)
        except RuleError as exc:
            raise forms.ValidationError(message_for(exc.code, exc.message)) from None

    def clean_employer_amount(self) -> int:
        return self._yuan("employer_amount")

    def clean_employee_amount(self) -> int:
        return self._yuan("employee_amount")

    def clean_base(self) -> int | None:
        return self._yuan("base") if self.cleaned_data.get("base") else None


class ReasonForm(ClaimsForm):
    reason = _text(_("Reasons"), 500, rows=3)


class ComplaintForm(ClaimsForm):
    field_aliases: ClassVar[dict[str, str]] = {"employer_id": "employer"}
    identifier_fields = ("uscc",)

    kind = forms.ChoiceField(
        label=_("What you are sending"), choices=ComplaintKind.choices, widget=forms.RadioSelect
    )
    employer = forms.TypedChoiceField(
        label=_("Your employer"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("For a request to intervene."),
    )
    uscc = forms.CharField(
        label=_("Unified social credit code of the employer"),
        max_length=18,
        required=False,
        help_text=_("For a report: the 18-character code on the employer's business licence."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    details = _text(_("What happened"), 4000, rows=8)

    def __init__(self, *args: Any, employers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["employer"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose your employer")), *employers]
        if not employers:
            kind = self.fields["kind"]
            assert isinstance(kind, forms.ChoiceField)
            kind.choices = [(ComplaintKind.REPORT.value, ComplaintKind.REPORT.label)]
            kind.initial = ComplaintKind.REPORT.value
            del self.fields["employer"]


class ReplyForm(ClaimsForm):
    reply = _text(
        _("Reply"),
        4000,
        rows=6,
        help_text=_("Sent to the complainant's inbox as written."),
    )
