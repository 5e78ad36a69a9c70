"""The first Integrated Card application as a web form, with the application's documents.

The fields are the API's (``POST /api/v1/cards``): employer, person, category, position, validity
requested. Each document is checked here as soon as it arrives (its bytes, not its name: see
``cards/documents.py``) so that a wrong file is marked on its own field before anything is filed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from expatsi.cards import documents
from expatsi.cards.forms import CardForm, card_rule_message
from expatsi.cards.models import Category, DocumentKind
from expatsi.rules.errors import RuleError
from expatsi.web.forms import DateInput

ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"

REQUIRED_DOCUMENTS = (DocumentKind.PASSPORT_SCAN, DocumentKind.LABOUR_CONTRACT)


def _file_field(kind: DocumentKind, required: bool) -> forms.FileField:
    hint = (
        _("PDF, JPEG or PNG, at most %(size)s.")
        if required
        else _(
            "PDF, JPEG or PNG, at most %(size)s. Optional now: it can be added until the decision."
        )
    )
    return forms.FileField(
        label=kind.label,
        required=required,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=hint,
    )


def set_size_hints(form: forms.Form, kinds: tuple[str, ...]) -> None:
    for name in kinds:
        field = form.fields.get(name)
        if field is not None and field.help_text:
            field.help_text = str(field.help_text) % {"size": documents.max_size_text()}


def read_documents(form: forms.Form, kinds: tuple[str, ...]) -> dict[str, tuple[str, bytes]]:
    """Each uploaded document (kind → name, bytes) once its bytes pass; a refused one is marked
    on its own field."""
    files: dict[str, tuple[str, bytes]] = {}
    for kind in kinds:
        upload: UploadedFile[Any] | None = form.cleaned_data.get(kind)
        if not upload:
            continue
        data = upload.read(documents.document_max_bytes() + 1)
        try:
            documents.sniff(data, field=kind)
        except RuleError as exc:
            form.add_error(kind, card_rule_message(exc))
            continue
        files[kind] = (upload.name or kind, data)
    return files


class CardApplicationForm(CardForm):
    employer = forms.ChoiceField(
        label=_("Employer"),
        error_messages={
            "required": _("Choose the employer."),
            "invalid_choice": _("Choose an employer you may apply for."),
        },
    )
    # The choices are the picker's matches and the person already chosen; a person outside them
    # (not employed by the chosen employer, not visible, with a live card) is refused here.
    person = forms.ChoiceField(
        label=_("Foreign employee"),
        help_text=_(
            "People your employer has registered who have no card in progress or in force."
        ),
        error_messages={
            "required": _("Choose the foreign employee."),
            "invalid_choice": _(
                "Choose a person the employer employs who has no card in progress or in force."
            ),
        },
    )
    category = forms.ChoiceField(label=_("Category"), choices=[("", "—"), *Category.choices])
    position = forms.CharField(label=_("Position"), max_length=200)
    valid_to = forms.DateField(
        label=_("Validity requested until"),
        widget=DateInput(),
        help_text=_("At most the end of the labour contract; the agency may grant less."),
    )
    passport_scan = _file_field(DocumentKind.PASSPORT_SCAN, required=True)
    labour_contract = _file_field(DocumentKind.LABOUR_CONTRACT, required=True)
    degree = _file_field(DocumentKind.DEGREE, required=False)
    medical_report = _file_field(DocumentKind.MEDICAL_REPORT, required=False)

    field_aliases: ClassVar[dict[str, str]] = {"employer_id": "employer", "person_id": "person"}
    document_kinds: ClassVar[tuple[str, ...]] = tuple(DocumentKind.values)

    def __init__(
        self,
        *args: Any,
        employers: list[tuple[str, str]],
        people: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        employer = self.fields["employer"]
        person = self.fields["person"]
        assert isinstance(employer, forms.ChoiceField)
        assert isinstance(person, forms.ChoiceField)
        employer.choices = employers if len(employers) == 1 else [("", "—"), *employers]
        person.choices = [("", "—"), *people]
        employer.widget.attrs["data-picker-select"] = "employer"
        person.widget.attrs["data-picker-select"] = "person"
        set_size_hints(self, self.document_kinds)
        self.document_files: dict[str, tuple[str, bytes]] = {}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.document_files = read_documents(self, self.document_kinds)
        return data


class DocumentUploadForm(CardForm):
    """One more document for an application awaiting a decision (or a better scan of one)."""

    kind = forms.ChoiceField(label=_("Document"), choices=[("", "—"), *DocumentKind.choices])
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_("PDF, JPEG or PNG, at most %(size)s."),
    )
    document_kinds: ClassVar[tuple[str, ...]] = ("file",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_size_hints(self, self.document_kinds)
        self.document_files: dict[str, tuple[str, bytes]] = {}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.document_files = read_documents(self, self.document_kinds)
        return data
