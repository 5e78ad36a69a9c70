"""Forms of the death and inheritance pages. They parse input and show errors next to their
fields; the services (benefits/death.py) check the substance, and a RuleError lands on the field
it names (``heirs.1.bic`` → the second heir's BIC, ``shares.7`` → heir 7's share)."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from expatsi.benefits.forms import BenefitForm
from expatsi.benefits.messages import benefit_message, message_for
from expatsi.benefits.models import Heir, Reporter
from expatsi.rules.errors import RuleError
from expatsi.web.forms import DateInput, country_choices

HEIR_ROWS = 4  # heirs on the page at once; the API takes up to death.MAX_HEIRS


class DeathReportForm(BenefitForm):
    person = forms.TypedChoiceField(label=_("Person who died"), choices=(), coerce=int)
    died_on = forms.DateField(label=_("Date of death"), widget=DateInput())
    reporter = forms.ChoiceField(label=_("Reported by"), choices=Reporter.choices)
    reporter_name = forms.CharField(
        label=_("Name of the person reporting"),
        max_length=140,
        required=False,
        help_text=_("For a family member's report: their name, as on their identity document."),
    )
    relationship = forms.CharField(
        label=_("Relationship to the deceased"),
        max_length=80,
        required=False,
        help_text=_("For a family member's report, e.g. spouse, son, daughter, parent."),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    evidence = forms.FileField(
        label=_("Evidence: death certificate or official notice (PDF, JPEG or PNG)"),
    )
    field_aliases: ClassVar[dict[str, str]] = {"person_id": "person"}

    def __init__(
        self, *args: Any, people: list[tuple[int, str]], staff: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        person = self.fields["person"]
        assert isinstance(person, forms.TypedChoiceField)
        person.choices = [("", _("Choose a person")), *people]
        if not staff:  # HR's report is the employer's
            del self.fields["reporter"]


def _heir_fields(n: int) -> dict[str, forms.Field]:
    first = n == 1
    return {
        f"heir{n}_name": forms.CharField(
            label=_("Name of the heir"), max_length=140, required=first
        ),
        f"heir{n}_relationship": forms.CharField(
            label=_("Relationship to the deceased"), max_length=80, required=first
        ),
        f"heir{n}_holder": forms.CharField(
            label=_("Account holder"), max_length=140, required=False
        ),
        f"heir{n}_country": forms.ChoiceField(
            label=_("Country of the bank"), choices=(), required=False
        ),
        f"heir{n}_iban": forms.CharField(label=_("IBAN"), max_length=42, required=False),
        f"heir{n}_account_number": forms.CharField(
            label=_("Account number"), max_length=40, required=False
        ),
        f"heir{n}_bank_code": forms.CharField(label=_("Bank code"), max_length=20, required=False),
        f"heir{n}_bic": forms.CharField(
            label=_("BIC (SWIFT code) of the bank"), max_length=11, required=False
        ),
        f"heir{n}_currency": forms.CharField(
            label=_("Currency of the account"), max_length=3, required=False
        ),
    }


BANK_PARTS = ("holder", "country", "iban", "account_number", "bank_code", "bic", "currency")


_ClaimFields: type[BenefitForm] = type(
    "_ClaimFields",
    (BenefitForm,),
    {
        "__module__": __name__,
        **{k: v for n in range(1, HEIR_ROWS + 1) for k, v in _heir_fields(n).items()},
        "document": forms.FileField(
            label=_(
                "Document of the claim: certificate of inheritance, will or proof of kinship "
                "(PDF, JPEG or PNG)"
            )
        ),
        "document2": forms.FileField(label=_("A further document (optional)"), required=False),
    },
)


class ClaimForm(_ClaimFields):  # type: ignore[misc,valid-type]
    """The heirs (up to ``HEIR_ROWS``; a row without a name is left out) and the documents."""

    identifier_fields = tuple(
        f"heir{n}_{part}"
        for n in range(1, HEIR_ROWS + 1)
        for part in ("iban", "account_number", "bank_code", "bic", "currency")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[int] = []
        countries = country_choices(str(_("Choose a country")))
        for n in range(1, HEIR_ROWS + 1):
            country = self.fields[f"heir{n}_country"]
            assert isinstance(country, forms.ChoiceField)
            country.choices = countries

    def heir_rows(self) -> list[int]:
        """The rows with a name: the heirs filed, in order."""
        data = self.cleaned_data
        self.rows = [
            n for n in range(1, HEIR_ROWS + 1) if (data.get(f"heir{n}_name") or "").strip()
        ]
        return self.rows

    def row_fields(self, n: int) -> list[forms.BoundField]:
        return [self[name] for name in _heir_fields(n)]

    def heir_groups(self) -> list[tuple[int, list[forms.BoundField]]]:
        return [(n, self.row_fields(n)) for n in range(1, HEIR_ROWS + 1)]

    def add_rule_error(self, exc: RuleError) -> None:
        parts = exc.field.split(".")
        if len(parts) == 3 and parts[0] == "heirs" and parts[1].isdigit():
            index = int(parts[1])
            row = self.rows[index] if index < len(self.rows) else 1
            name = f"heir{row}_{parts[2]}"
            self.add_error(name if name in self.fields else None, benefit_message(exc))
            return
        if exc.field == "documents":
            self.add_error("document", benefit_message(exc))
            return
        super().add_rule_error(exc)


class ClaimDecisionForm(BenefitForm):
    """One share per heir (``share_<heir id>``), the note, the reason when rejecting."""

    def __init__(self, *args: Any, heirs: list[Heir], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heirs = heirs
        for h in heirs:
            self.fields[f"share_{h.pk}"] = forms.CharField(
                label=_("Share of %(name)s") % {"name": h.name},
                max_length=20,
                required=False,
                initial=h.share_text,
                help_text=_("A fraction such as 1/2 or 1/3, or a decimal such as 0.25."),
            )
        self.fields["note"] = forms.CharField(
            label=_("Note on the decision"),
            max_length=500,
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.fields["reason"] = forms.CharField(
            label=_("Reason (when rejecting)"), max_length=500, required=False
        )

    def shares(self) -> dict[int, str]:
        return {h.pk: self.cleaned_data.get(f"share_{h.pk}") or "" for h in self.heirs}

    def add_rule_error(self, exc: RuleError) -> None:
        if exc.code == "months_not_settled":  # said of the claim, not of an application
            self.add_error(None, message_for("claim_months_not_settled", exc.message, exc.params))
            return
        if exc.field.startswith("shares.") and exc.field[7:].isdigit():
            name = f"share_{exc.field[7:]}"
        elif exc.field == "shares" and self.heirs:
            name = f"share_{self.heirs[0].pk}"  # next to the shares, at their head
        else:
            super().add_rule_error(exc)
            return
        self.add_error(name if name in self.fields else None, benefit_message(exc))


class ClaimDocumentForm(BenefitForm):
    file = forms.FileField(label=_("A further document (PDF, JPEG or PNG)"))
