"""Forms of the card pages: verification, filing (extension, change, deregistration), decisions.

They parse input and show errors next to their fields; the substance is checked by the services,
whose RuleErrors are mapped onto the fields here in the reader's language.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from expatsi.cards.models import Category
from expatsi.rules.errors import RuleError
from expatsi.web.errors import rule_message
from expatsi.web.forms import DateInput, PortalForm, country_choices

CARD_MESSAGES: dict[str, Promise] = {
    "extension_window_not_open": _(
        "An extension can be filed only from 30 days before the card expires."
    ),
    "not_an_extension": _("The new date must be after the card's current expiry date."),
    "invalid_transition": _("This cannot be filed for a card in its current state."),
    "application_open": _("This card already has an application awaiting a decision."),
    "employer_files": _(
        "Your employer files card applications; you may file only once it no longer exists."
    ),
    "invalid_change": _("Enter at least one change."),
    "invalid_category": _("Choose category A, B or C."),
    "invalid_reason": _("Choose a reason."),
    "already_decided": _("This application has already been decided."),
    "notice_lapsed": _("The work permit notice had lapsed on that date."),
    "entry_before_notice": _("The entry cannot precede the work permit notice."),
    "invalid_photo": _(
        "The photo must be a complete JPEG or PNG file, at least 100 pixels wide and high."
    ),
    # services.PHOTO_MAX_BYTES and images.UPLOAD_MAX_PIXELS
    "photo_too_large": _("The photo is too large: at most 2 MB and 16 megapixels."),
}


def card_rule_message(exc: RuleError) -> str:
    message = CARD_MESSAGES.get(exc.code)
    return str(message) if message is not None else rule_message(exc.code, exc.message)


class CardForm(PortalForm):
    def add_rule_error(self, exc: RuleError) -> None:
        name = self.field_aliases.get(exc.field) or exc.field
        self.add_error(name if name in self.fields else None, card_rule_message(exc))


class VerifyForm(CardForm):
    text = forms.CharField(
        label=_("Text of the code"),
        required=False,
        max_length=4096,
        strip=True,
        widget=forms.Textarea(
            attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off", "class": "mono"}
        ),
        help_text=_("It starts with EXP1: — a scanner app shows it when it reads the code."),
    )
    image = forms.FileField(
        label=_("Or a photo or screenshot of the code"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("PNG or JPEG, at most 8 MB. The image is read and then discarded."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("text") and not data.get("image") and not self.errors:
            self.add_error("text", _("Paste the code's text or upload a photo of it."))
        return data


class ExtensionForm(CardForm):
    new_valid_to = forms.DateField(label=_("Extend until"), widget=DateInput())


class ChangeForm(CardForm):
    change_date = forms.DateField(
        label=_("Date of the change"),
        widget=DateInput(),
        help_text=_("A change must be filed within 10 days of it."),
    )
    family_name = forms.CharField(label=_("New family name"), max_length=100, required=False)
    given_names = forms.CharField(label=_("New given names"), max_length=150, required=False)
    passport_number = forms.CharField(label=_("New passport number"), max_length=20, required=False)
    passport_country = forms.ChoiceField(label=_("New passport issued by"), required=False)
    position = forms.CharField(label=_("New position"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("New category"), required=False)

    CHANGE_FIELDS = (
        "family_name",
        "given_names",
        "passport_number",
        "passport_country",
        "position",
        "category",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["passport_country"]
        category = self.fields["category"]
        assert isinstance(country, forms.ChoiceField)
        assert isinstance(category, forms.ChoiceField)
        country.choices = country_choices(str(_("Unchanged")))
        category.choices = [("", _("Unchanged")), *Category.choices]

    def changes(self) -> dict[str, str]:
        return {k: self.cleaned_data[k] for k in self.CHANGE_FIELDS if self.cleaned_data.get(k)}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not any(data.get(k) for k in self.CHANGE_FIELDS):
            self.add_error(None, _("Enter at least one change."))
        if data.get("passport_country") and not data.get("passport_number"):
            self.add_error("passport_number", _("Enter the new passport's number."))
        return data


class DeregistrationForm(CardForm):
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[
            ("", "—"),
            ("contract_ended", _("The employment contract ended")),
            ("death", _("The holder died")),
            ("employer_gone", _("The employer no longer exists")),
            ("other", _("Other")),
        ],
    )
    end_date = forms.DateField(
        label=_("Last day of employment"),
        widget=DateInput(),
        help_text=_("Deregistration must be filed within 10 working days of this date."),
    )


class EntryForm(CardForm):
    entry_date = forms.DateField(label=_("Date of entry into China"), widget=DateInput())


class DecisionForm(CardForm):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to reject; the employer's HR and the holder see it."),
    )


# --- older physical permits (agency) -------------------------------------------------------------


class LegacyPermitForm(CardForm):
    """One physical work permit issued before the Integrated Card, as its card shows it."""

    permit_number = forms.CharField(
        label=_("Work permit number"), max_length=18, help_text=_("18 digits, as on the permit.")
    )
    passport_country = forms.ChoiceField(label=_("Passport issued by"), choices=())
    passport_number = forms.CharField(label=_("Passport number"), max_length=20)
    employer_uscc = forms.CharField(label=_("Employer's unified social credit code"), max_length=18)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    position = forms.CharField(label=_("Position"), max_length=100)
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_to = forms.DateField(label=_("Valid until"), widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["passport_country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = country_choices(str(_("Choose a country")))

    def as_row(self) -> dict[str, str]:
        return {name: str(value) for name, value in self.cleaned_data.items()}


class LegacyFileForm(CardForm):
    file = forms.FileField(
        label=_("CSV or Excel file of physical permits"),
        help_text=_(
            "Header row: permit_number, passport_country, passport_number, employer_uscc, "
            "category, position, valid_from, valid_to (dates as YYYY-MM-DD). All rows or none."
        ),
    )
    dry_run = forms.BooleanField(label=_("Check only, import nothing"), required=False)


# Not "(optional)": required when rejecting (portal/_field.html reads this mark).
DecisionForm.base_fields["reason"].required_to_reject = True  # type: ignore[attr-defined]
