"""Forms of the departure pages. They parse input and show errors next to their fields; the
services check the substance, and their RuleErrors land on the field they name."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from expatsi.benefits.messages import benefit_message
from expatsi.rules.errors import RuleError
from expatsi.web.forms import DateInput, PortalForm, country_choices


class BenefitForm(PortalForm):
    field_aliases: ClassVar[dict[str, str]] = {}

    def add_rule_error(self, exc: RuleError) -> None:
        name = self.field_aliases.get(exc.field) or exc.field
        self.add_error(name if name in self.fields else None, benefit_message(exc))


class DeclareForm(BenefitForm):
    departure_date = forms.DateField(label=_("Date you leave China (or left)"), widget=DateInput())


class TerminationForm(BenefitForm):
    """The written application: where to pay, the declaration, and the signature."""

    identifier_fields = ("iban", "account_number", "bank_code", "bic", "currency")
    field_aliases: ClassVar[dict[str, str]] = {"case_id": "declaration"}

    holder = forms.CharField(label=_("Account holder"), max_length=140)
    country = forms.ChoiceField(label=_("Country of the bank"), choices=())
    iban = forms.CharField(
        label=_("IBAN"),
        max_length=42,
        required=False,
        help_text=_("In countries that use IBAN (e.g. every country of the EU): the IBAN only."),
    )
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=40,
        required=False,
        help_text=_(
            "In countries without IBAN (e.g. the United States, Japan): the account number."
        ),
    )
    bank_code = forms.CharField(
        label=_("Bank code"),
        max_length=20,
        required=False,
        help_text=_("Without IBAN: the bank's national code, e.g. the ABA routing number or BSB."),
    )
    bic = forms.CharField(label=_("BIC (SWIFT code) of the bank"), max_length=11)
    currency = forms.CharField(
        label=_("Currency of the account"),
        max_length=3,
        help_text=_("ISO code, e.g. EUR, USD, JPY. The bank converts the yuan amount."),
    )
    declaration = forms.BooleanField(
        label=_(
            "I apply in writing to terminate my social insurance relationship in China and to "
            "receive my individual account balance in one lump sum. I understand that my "
            "contribution periods then no longer count if I work in China again."
        ),
        error_messages={
            "required": _("Confirm that you apply to terminate your social insurance relationship.")
        },
    )
    password = forms.CharField(
        label=_("Your password (your signature)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        strip=False,
    )
    signed_form = forms.FileField(
        label=_("Or: the signed application form (PDF, JPEG or PNG, at most 2 MB)"),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = country_choices(str(_("Choose a country")))


class DecisionForm(BenefitForm):
    identity_checked = forms.BooleanField(
        label=_(
            "I checked the applicant's identity (passport against the record, signature against "
            "the form or the signed-in account)"
        ),
        required=False,
    )
    note = forms.CharField(
        label=_("Note on the check"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason = forms.CharField(label=_("Reason (when rejecting)"), max_length=500, required=False)


class RunForm(BenefitForm):
    region_code = forms.ChoiceField(label=_("Region"), choices=())
    execution_date = forms.DateField(label=_("Execution date"), required=False, widget=DateInput())

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields["region_code"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = regions


class ReturnFileForm(BenefitForm):
    file = forms.FileField(
        label=_("The bank's return file (CSV: end_to_end_id,status,date,reason)"),
    )


class BankForm(BenefitForm):
    """Corrected bank details after the bank returned a payout: the same fields as the
    application's, without the declaration and the signature (the application stands)."""

    identifier_fields = TerminationForm.identifier_fields
    holder = TerminationForm.base_fields["holder"]
    country = TerminationForm.base_fields["country"]
    iban = TerminationForm.base_fields["iban"]
    account_number = TerminationForm.base_fields["account_number"]
    bank_code = TerminationForm.base_fields["bank_code"]
    bic = TerminationForm.base_fields["bic"]
    currency = TerminationForm.base_fields["currency"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = country_choices(str(_("Choose a country")))


class ProgrammeApplyForm(BankForm):
    """Apply for a benefit programme: which one, and the account to pay into."""

    programme = forms.ChoiceField(label=_("Programme"), choices=())

    def __init__(self, *args: Any, programmes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["programme"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = programmes
        self.order_fields(["programme"])


class ProgrammeDecisionForm(BenefitForm):
    note = forms.CharField(
        label=_("Note on the review"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason = forms.CharField(label=_("Reason (when rejecting)"), max_length=500, required=False)
