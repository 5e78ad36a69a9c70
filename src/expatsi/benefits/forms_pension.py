"""Forms of the pension and proof-of-life pages. They parse input and show errors next to their
fields; the services check the substance (benefits/pensions.py, benefits/proof_of_life.py)."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from expatsi.benefits.forms import BenefitForm
from expatsi.benefits.models import ProofRoute
from expatsi.web.forms import DateInput, country_choices


class PensionApplyForm(BenefitForm):
    """The application: the bank account abroad and, for the person, the signature."""

    identifier_fields = ("iban", "account_number", "bank_code", "bic", "currency")
    field_aliases: ClassVar[dict[str, str]] = {"months": "__all__", "person_id": "__all__"}

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
    password = forms.CharField(
        label=_("Your password (your signature)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        strip=False,
    )

    def __init__(self, *args: Any, signed_by_person: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = country_choices(str(_("Choose a country")))
        if not signed_by_person:
            del self.fields["password"]


class StaffApplyForm(PensionApplyForm):
    person_id = forms.IntegerField(label=_("Person (record number)"), min_value=1)
    field_aliases: ClassVar[dict[str, str]] = {"months": "__all__"}


class PensionDecisionForm(BenefitForm):
    identity_checked = forms.BooleanField(
        label=_(
            "I checked the applicant's identity (passport against the record, signature against "
            "the signed-in account or the form)"
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


class OnlineProofForm(BenefitForm):
    password = forms.CharField(
        label=_("Your password (to confirm that it is you)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )


class CertificateForm(BenefitForm):
    field_aliases: ClassVar[dict[str, str]] = {"pension_id": "__all__"}

    route = forms.ChoiceField(
        label=_("Kind of certificate"),
        choices=[
            (ProofRoute.EMBASSY.value, ProofRoute.EMBASSY.label),
            (ProofRoute.NOTARISED.value, ProofRoute.NOTARISED.label),
        ],
    )
    verified_on = forms.DateField(label=_("Date of the certificate"), widget=DateInput())
    document = forms.FileField(label=_("The certificate (PDF, JPEG or PNG, at most 2 MB)"))


class InPersonForm(BenefitForm):
    note = forms.CharField(label=_("Note (identity document seen)"), max_length=500, required=False)


class ProofDecisionForm(BenefitForm):
    reason = forms.CharField(label=_("Reason (when rejecting)"), max_length=500, required=False)


class PensionRunForm(BenefitForm):
    region_code = forms.ChoiceField(label=_("Region"), choices=())
    month = forms.CharField(label=_("Month paid (YYYY-MM)"), max_length=7)
    execution_date = forms.DateField(label=_("Execution date"), required=False, widget=DateInput())

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields["region_code"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = regions
