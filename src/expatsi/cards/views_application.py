"""The first Integrated Card application in the portal: the employer's HR fill in the API's fields
and upload the documents; agency staff review the application with its documents and decide.

Thin: the form parses and checks the files' bytes, ``cards/documents.py`` files and reads (every
download audited), ``cards/services.py`` decides.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi.access.actors import Actor
from expatsi.cards import documents, permissions, selectors, services
from expatsi.cards.forms import DecisionForm, card_rule_message
from expatsi.cards.forms_application import (
    REQUIRED_DOCUMENTS,
    CardApplicationForm,
    DocumentUploadForm,
)
from expatsi.cards.models import ApplicationStatus, CardApplication, CardStatus, DocumentKind
from expatsi.employers.display import display_name
from expatsi.employers.selectors import employer_get, employer_search
from expatsi.insurance.selectors import person_get, persons_visible
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web.actors import request_actor

# A form offers at most this many people; HR of a larger employer start from the person's page
# (``?person=``) — the choice then holds that person.
PEOPLE_SHOWN = 500
LIVE = (CardStatus.APPLIED, CardStatus.NOTICE_ISSUED, CardStatus.ACTIVE)


def _employer_choices(actor: Actor) -> list[tuple[str, str]]:
    return [
        (str(e.pk), display_name(e))
        for e in employer_search(actor=actor)[:PEOPLE_SHOWN]
        if permissions.may_apply(actor, e)
    ]


def _people_choices(actor: Actor, chosen: str) -> list[tuple[str, str]]:
    """People the actor may see with no card in progress or in force (the chosen one always)."""
    qs = persons_visible(actor).exclude(cards__status__in=LIVE)
    people = list(qs.order_by("family_name", "given_names", "pk")[:PEOPLE_SHOWN])
    if chosen.isdigit() and all(str(p.pk) != chosen for p in people):
        people += list(qs.filter(pk=int(chosen)))
    return [(str(p.pk), f"{p.full_name} · {p.ssn}" if p.ssn else p.full_name) for p in people]


@login_required
def application_new(request: HttpRequest) -> HttpResponse:
    """Apply for a first Integrated Card (work permit notice and card) with its documents."""
    actor = request_actor(request)
    if not permissions.may_open_application_form(actor):
        raise PermissionDenied
    chosen = str(request.POST.get("person") or request.GET.get("person") or "")
    form = CardApplicationForm(
        request.POST or None,
        request.FILES or None,
        employers=_employer_choices(actor),
        people=_people_choices(actor, chosen),
        initial={"person": chosen} if chosen else None,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                app = documents.card_apply_with_documents(
                    actor=actor,
                    employer=employer_get(actor=actor, employer_id=int(data["employer"])),
                    person=person_get(actor=actor, person_id=int(data["person"]), audit=False),
                    category=data["category"],
                    position=data["position"],
                    valid_to=data["valid_to"],
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
        {"form": form, "required": [str(k.label) for k in REQUIRED_DOCUMENTS]},
        status=status,
    )


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
