"""Forms of the hire and registration pages. Validation of substance lives in the services; forms
parse input and show errors."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from expatsi.access import validation
from expatsi.employers.display import display_name
from expatsi.employers.models import Employer
from expatsi.insurance.imports import column_for_field
from expatsi.people.models import Sex
from expatsi.web.forms import DateInput, PortalForm, country_choices


class HireForm(PortalForm):
    """One new hire: the person, the employment document, the employment."""

    field_aliases: ClassVar[dict[str, str]] = {"contract_wage": "monthly_wage"}

    def field_for_rule(self, field: str) -> str:
        return column_for_field(field)

    identifier_fields = ("passport_number", "permit_number", "residence_permit_number")

    employer = forms.TypedChoiceField(label=_("Employer"), coerce=int)
    family_name = forms.CharField(label=_("Family name (as in the passport)"), max_length=100)
    given_names = forms.CharField(
        label=_("Given names (as in the passport)"), max_length=150, required=False
    )
    chinese_name = forms.CharField(label=_("Chinese name"), max_length=50, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices])
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput())
    nationality = forms.ChoiceField(label=_("Nationality"))
    passport_number = forms.CharField(label=_("Passport number"), max_length=20)
    passport_country = forms.ChoiceField(
        label=_("Passport issued by"),
        required=False,
        help_text=_("Leave empty if it is the country of nationality."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    # One card number: the hire records the person's card on file (or its application), whose
    # own dates and status the person's record then follows; nothing about it is typed twice.
    permit_number = forms.CharField(
        label=_("Integrated Card, work permit or card application number"),
        max_length=40,
        help_text=_(
            "The card on file for this person: the Integrated Card number, the 18-digit work "
            "permit number of an older permit, or A and the number of the card application while "
            "it awaits a decision (e.g. A1234). The card's dates are taken from the card; the "
            "30-day registration deadline runs from the day it was issued."
        ),
    )
    residence_permit_number = forms.CharField(
        label=_("Residence permit number"), max_length=40, required=False
    )
    residence_permit_issued_on = forms.DateField(
        label=_("Residence permit issued on"), widget=DateInput(), required=False
    )
    residence_permit_valid_to = forms.DateField(
        label=_("Residence permit valid until"), widget=DateInput(), required=False
    )
    start_date = forms.DateField(label=_("Employment starts on"), widget=DateInput())
    end_date = forms.DateField(
        label=_("Contract ends on"),
        widget=DateInput(),
        required=False,
        help_text=_("Leave empty for an open-ended contract."),
    )
    position = forms.CharField(label=_("Position"), max_length=200)
    monthly_wage = forms.DecimalField(
        label=_("Monthly contract wage (yuan)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    seconded_by = forms.CharField(
        label=_("Overseas company that assigned the employee"),
        max_length=200,
        required=False,
        help_text=_(
            "Only for staff seconded by a foreign company and enrolled by this employer; "
            "leave empty otherwise."
        ),
    )
    seconded_by_country = forms.ChoiceField(
        label=_("Country of the overseas company"), required=False
    )
    # Shown only on the confirmation step of a late hire (not one of GROUPS).
    confirm_late = forms.BooleanField(
        label=_(
            "I have read the back contributions and the late-fee exposure and want to register "
            "this hire."
        ),
        required=False,
    )

    def __init__(self, *args: Any, employers: list[Employer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].validators.append(validation.form_birth_date)
        employer_field = self.fields["employer"]
        assert isinstance(employer_field, forms.TypedChoiceField)
        employer_field.choices = [(e.pk, display_name(e)) for e in employers]
        if len(employers) == 1:
            employer_field.widget = forms.HiddenInput()
            employer_field.initial = employers[0].pk
        nationality = self.fields["nationality"]
        passport_country = self.fields["passport_country"]
        assert isinstance(nationality, forms.ChoiceField)
        assert isinstance(passport_country, forms.ChoiceField)
        nationality.choices = country_choices("—")
        passport_country.choices = country_choices(str(_("Same as nationality")))
        seconded_country = self.fields["seconded_by_country"]
        assert isinstance(seconded_country, forms.ChoiceField)
        seconded_country.choices = country_choices("—")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("residence_permit_number") and not data.get("residence_permit_issued_on"):
            self.add_error(
                "residence_permit_issued_on", _("Enter the date the residence permit was issued.")
            )
        if data.get("seconded_by") and not data.get("seconded_by_country"):
            self.add_error("seconded_by_country", _("Choose the country of the overseas company."))
        if data.get("seconded_by_country") and not data.get("seconded_by"):
            self.add_error(
                "seconded_by", _("Name the overseas company, or leave its country empty.")
            )
        return data

    # Field groups, in the order the page shows them.
    GROUPS = (
        (
            _("The person"),
            (
                "family_name",
                "given_names",
                "chinese_name",
                "sex",
                "birth_date",
                "nationality",
                "passport_number",
                "passport_country",
                "email",
            ),
        ),
        (
            _("Work permit or Integrated Card"),
            ("permit_number",),
        ),
        (
            _("Residence permit (optional)"),
            ("residence_permit_number", "residence_permit_issued_on", "residence_permit_valid_to"),
        ),
        (_("Employment"), ("employer", "start_date", "end_date", "position", "monthly_wage")),
        (_("Overseas assignment (optional)"), ("seconded_by", "seconded_by_country")),
    )

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(str(title), [self[name] for name in names]) for title, names in self.GROUPS]


class ImportForm(PortalForm):
    employer = forms.TypedChoiceField(label=_("Employer"), coerce=int)
    file = forms.FileField(
        label=_("File of new hires (.csv or .xlsx)"),
        help_text=_(
            "CSV (UTF-8, or GBK/GB18030 as Excel on Chinese Windows saves it) or an Excel workbook, "
            "first sheet, one hire per row, column names in the first row."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args: Any, employers: list[Employer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        employer_field = self.fields["employer"]
        assert isinstance(employer_field, forms.TypedChoiceField)
        employer_field.choices = [(e.pk, display_name(e)) for e in employers]
        if len(employers) == 1:
            employer_field.widget = forms.HiddenInput()
            employer_field.initial = employers[0].pk


class RejectForm(PortalForm):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The employer's HR sees this reason."),
    )
