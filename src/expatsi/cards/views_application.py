"""The first Integrated Card application in the portal: the employer's HR fill in the API's fields
and upload the documents; agency staff review the application with its documents and decide.

Thin: the form parses and checks the files' bytes, ``cards/documents.py`` files and reads (every
download audited), ``cards/services.py`` decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from expatsi.access.actors import Actor
from expatsi.cards import documents, permissions, picker, selectors, services
from expatsi.cards.forms import DecisionForm, card_rule_message
from expatsi.cards.forms_application import (
    REQUIRED_DOCUMENTS,
    CardApplicationForm,
    DocumentUploadForm,
)
from expatsi.cards.models import ApplicationStatus, CardApplication, DocumentKind
from expatsi.employers.selectors import employer_get
from expatsi.insurance.selectors import person_get
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web.actors import request_actor


@dataclass(frozen=True, slots=True)
class Picker:
    """What the template needs to draw one searchable picker (``cards/_picker.html``)."""

    name: str  # the form field: employer, person
    query_name: str  # the search box: employer_q, person_q
    query: str
    url: str  # the fragment the script asks as one types
    found: picker.Found
    search_label: str
    search_hint: str


def _status(found: picker.Found) -> str:
    """What a screen reader hears after a search, and what the page says under the list."""
    if not found.searched:
        return ""
    n = len(found.choices)
    if n == 0:
        return _("No matches. Check the spelling or type less.")
    if found.more:
        return _("The first %(n)s matches; type more to narrow them.") % {"n": n}
    return ngettext("%(n)s match.", "%(n)s matches.", n) % {"n": n}


def _with(choices: list[picker.Choice], chosen: picker.Choice | None) -> list[tuple[str, str]]:
    pairs = [(c.value, c.label) for c in choices]
    if chosen is not None and all(c.value != chosen.value for c in choices):
        pairs.insert(0, (chosen.value, chosen.label))
    return pairs


def _pickers(
    actor: Actor, data: QueryDict
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, Picker]]:
    """The choices each picker offers now — its matches for what was typed (the first few when
    nothing was) and what is already chosen — and how to draw it."""
    employer_q = str(data.get("employer_q") or "")
    person_q = str(data.get("person_q") or "")
    employers_found = picker.employers_find(actor=actor, query=employer_q)
    employer = picker.employer_choice(actor, str(data.get("employer") or ""))
    if employer is None and not employers_found.more and len(employers_found.choices) == 1:
        employer = employers_found.choices[0]  # HR of one employer: nothing to choose
    employer_id = int(employer.value) if employer else None
    people_found = picker.people_find(actor=actor, query=person_q, employer_id=employer_id)
    person = picker.person_choice(actor, str(data.get("person") or ""), employer_id)
    pickers = {
        "employer": Picker(
            name="employer",
            query_name="employer_q",
            query=employer_q,
            url=reverse("cards:apply_employers"),
            found=employers_found,
            search_label=_("Find the employer"),
            search_hint=_("Part of its name, or its unified social credit code."),
        ),
        "person": Picker(
            name="person",
            query_name="person_q",
            query=person_q,
            url=reverse("cards:apply_people"),
            found=people_found,
            search_label=_("Find the foreign employee"),
            search_hint=_(
                "The start of a name, a social security number or a document number, "
                "or a whole passport number."
            ),
        ),
    }
    return (
        _with(employers_found.choices, employer),
        _with(people_found.choices, person),
        pickers,
    )


@login_required
def application_new(request: HttpRequest) -> HttpResponse:
    """Apply for a first Integrated Card (work permit notice and card) with its documents.

    Without a script the pickers work by sending the form with "Find" (or ``?person_q=`` in the
    address): the page comes back with what was typed kept and the matches to choose from."""
    actor = request_actor(request)
    if not permissions.may_open_application_form(actor):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    finding = request.method != "POST" or "find" in request.POST
    employers, people, pickers = _pickers(actor, data)
    fields = ("employer", "person", "category", "position", "valid_to")
    initial = {k: data[k] for k in fields if data.get(k)}
    if len(employers) == 1:
        initial["employer"] = employers[0][0]
    form = CardApplicationForm(
        None if finding else request.POST,
        None if finding else request.FILES,
        employers=employers,
        people=people,
        initial=initial,
    )
    status = 200
    if not finding:
        status = 400
        if form.is_valid():
            clean = form.cleaned_data
            try:
                app = documents.card_apply_with_documents(
                    actor=actor,
                    employer=employer_get(actor=actor, employer_id=int(clean["employer"])),
                    person=person_get(actor=actor, person_id=int(clean["person"]), audit=False),
                    category=clean["category"],
                    position=clean["position"],
                    valid_to=clean["valid_to"],
                    files=form.document_files,
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(
                    request,
                    _("The application has been sent to the social insurance agency."),
                )
                return redirect("cards:application", app_pk=app.pk)
    return render(
        request,
        "cards/apply.html",
        {
            "form": form,
            "required": [str(k.label) for k in REQUIRED_DOCUMENTS],
            "pickers": pickers,
            "statuses": {k: _status(p.found) for k, p in pickers.items()},
        },
        status=status,
    )


def _options(request: HttpRequest, found: picker.Found, name: str) -> HttpResponse:
    response = render(
        request,
        "cards/_picker_options.html",
        {"found": found, "name": name, "status": _status(found)},
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def apply_people(request: HttpRequest) -> HttpResponse:
    """The person picker's matches as an HTML fragment (the script asks as one types): at most
    ``picker.CAP``, within the actor's scope, for the chosen employer if one is given."""
    actor = request_actor(request)
    if not permissions.may_open_application_form(actor):
        raise PermissionDenied
    employer_id: int | None = None
    raw = str(request.GET.get("employer") or "")
    if raw:
        employer = picker.employer_choice(actor, raw)
        if employer is None:
            return _options(request, picker.Found([], True, False), "person")
        employer_id = int(employer.value)
    query = str(request.GET.get("q") or "")
    return _options(
        request,
        picker.people_find(actor=actor, query=query, employer_id=employer_id),
        "person",
    )


@login_required
@require_GET
def apply_employers(request: HttpRequest) -> HttpResponse:
    """The employer picker's matches as an HTML fragment: those the actor may apply for."""
    actor = request_actor(request)
    if not permissions.may_open_application_form(actor):
        raise PermissionDenied
    query = str(request.GET.get("q") or "")
    return _options(request, picker.employers_find(actor=actor, query=query), "employer")


def _application(actor: Actor, app_pk: int) -> CardApplication:
    try:
        return selectors.application_get(actor=actor, application_id=app_pk)
    except NotFound:
        raise Http404 from None


def _review(
    request: HttpRequest,
    actor: Actor,
    app: CardApplication,
    *,
    upload: DocumentUploadForm | None = None,
    decision: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    card = app.card
    see_documents = permissions.may_see_card_documents(actor, card)
    open_ = app.status == ApplicationStatus.SUBMITTED
    docs = list(documents.application_documents(app)) if see_documents else []
    have = {d.kind for d in docs}
    return render(
        request,
        "cards/application.html",
        {
            "app": app,
            "card": card,
            "person": card.person,
            "request_data": selectors.application_request_for(actor, app),
            "see_documents": see_documents,
            "documents": docs,
            "missing": [label for kind, label in DocumentKind.choices if kind not in have],
            "upload_form": (upload or DocumentUploadForm()) if see_documents and open_ else None,
            "decision_form": (decision or DecisionForm(prefix=f"a{app.pk}"))
            if open_ and permissions.may_decide(actor, card)
            else None,
        },
        status=status,
    )


@login_required
def application_detail(request: HttpRequest, app_pk: int) -> HttpResponse:
    """The application as the agency reviews it: the request, the documents, the decision."""
    actor = request_actor(request)
    return _review(request, actor, _application(actor, app_pk))


@login_required
@require_POST
def document_upload(request: HttpRequest, app_pk: int) -> HttpResponse:
    actor = request_actor(request)
    app = _application(actor, app_pk)
    if not permissions.may_see_card_documents(actor, app.card):
        raise PermissionDenied
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid() and "file" in form.document_files:
        name, data = form.document_files["file"]
        try:
            documents.document_attach(
                actor=actor,
                application_id=app.pk,
                kind=form.cleaned_data["kind"],
                data=data,
                filename=name,
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(request, _("The document was added to the application."))
            return redirect("cards:application", app_pk=app.pk)
    return _review(request, actor, app, upload=form, status=400)


@login_required
def document_download(request: HttpRequest, app_pk: int, doc_pk: int) -> HttpResponse:
    """The document's bytes as they were uploaded (the read is audited)."""
    actor = request_actor(request)
    try:
        doc = documents.document_read(actor=actor, application_id=app_pk, document_id=doc_pk)
    except NotFound:
        raise Http404 from None
    response = HttpResponse(doc.data, content_type=doc.content_type)
    response["Content-Disposition"] = f'attachment; filename="{doc.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def application_decide(request: HttpRequest, app_pk: int) -> HttpResponse:
    """Approve or reject from the review page, and come back to it."""
    actor = request_actor(request)
    app = _application(actor, app_pk)
    if not permissions.may_decide(actor, app.card):
        raise PermissionDenied
    approve = request.POST.get("decision") == "approve"
    form = DecisionForm(request.POST, prefix=f"a{app.pk}")
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    try:
        services.application_decide(
            actor=actor, application_id=app.pk, approve=approve, reason=reason
        )
    except RuleError as exc:
        if exc.field == "reason":
            form.add_error("reason", _("Give a reason to reject."))
            return _review(request, actor, app, decision=form, status=400)
        messages.error(request, card_rule_message(exc))
    else:
        if approve:
            messages.success(request, _("Application approved."))
        else:
            messages.success(request, _("Application rejected; the employer has been told why."))
    return redirect("cards:application", app_pk=app.pk)
