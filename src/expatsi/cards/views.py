"""Card pages: the public verification page; the card (QR, PDF, history) for its holder, the
employer's HR and agency staff; filing extension, change and deregistration; the agency's queue.

Views are thin: build the actor, call one selector or service, show RuleError next to its field.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi.access.actors import Actor, client_ip
from expatsi.cards import list_views, pdf, permissions, selectors, services, verification
from expatsi.cards.forms import (
    CardForm,
    ChangeForm,
    DecisionForm,
    DeregistrationForm,
    EntryForm,
    ExtensionForm,
    LegacyFileForm,
    LegacyPermitForm,
    VerifyForm,
    card_rule_message,
)
from expatsi.cards.models import Card, CardStatus
from expatsi.credentials import qr
from expatsi.insurance.imports import rows_from_file
from expatsi.rules.deadlines import deadline
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web import lists
from expatsi.web.actors import request_actor
from expatsi.web.uploads import upload_check

FILING_FORMS: dict[str, type[CardForm]] = {
    "extension": ExtensionForm,
    "change": ChangeForm,
    "deregistration": DeregistrationForm,
}


def _card(actor: Actor, pk: int, *, audit: bool = True) -> Card:
    try:
        return selectors.card_get(actor=actor, card_id=pk, audit=audit)
    except NotFound:
        raise Http404 from None


# --- public verification ------------------------------------------------------------------------


def verify_page(request: HttpRequest) -> HttpResponse:
    """Paste the code's text or upload a photo of it: a clear answer for anyone."""
    form = VerifyForm(request.POST or None, request.FILES or None)
    answer = None
    status = 200
    retry_after: int | None = None
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data.get("image")
            image = upload.read(verification.MAX_IMAGE_BYTES + 1) if upload else None
            try:
                answer = verification.verify_online(
                    ip=client_ip(request),
                    via="page",
                    text=form.cleaned_data.get("text") or "",
                    image=image,
                )
            except verification.RateLimitedError as exc:
                form.add_error(None, exc.message)
                status = 429
                retry_after = exc.retry_after
            except RuleError as exc:
                form.add_rule_error(exc)
                status = exc.status  # 413 for an image with too many pixels
        if not form.is_valid() and status == 200:
            status = 400
    response = render(request, "cards/verify.html", {"form": form, "answer": answer}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def verify_photo(request: HttpRequest, reference: str) -> HttpResponse:
    """The holder's photo, for whoever has just checked a valid code (public: the reference is
    signed by this server after the check and expires; see ``verification.photo_by_reference``)."""
    photo = verification.photo_by_reference(reference)
    if photo is None:
        raise Http404
    response = HttpResponse(photo, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


# --- the card -----------------------------------------------------------------------------------


def _extension_opens(card: Card) -> date | None:
    """When the extension window of a permit opens (deadlines.toml), if it has not passed."""
    if card.valid_to is None or card.status != CardStatus.ACTIVE:
        return None
    return deadline("permit_extension_window", card.valid_to).opens


@login_required
def card_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    return _detail(request, actor, _card(actor, pk))


def _detail(
    request: HttpRequest, actor: Actor, card: Card, photo_error: str = "", status: int = 200
) -> HttpResponse:
    """The card page; a refused photo is shown again with its error next to the upload field."""
    token = selectors.card_current_token(card)
    open_app = selectors.card_open_application(card)
    today = timezone.localdate()
    may_file = permissions.may_file(actor, card)
    return render(
        request,
        "cards/detail.html",
        {
            "card": card,
            "person": card.person,
            "token": token,
            # segno's SVG is generated from our own signed text: no user markup can reach it.
            "qr_svg": mark_safe(qr.svg(token.text, scale=5)) if token else "",  # noqa: S308
            "events": selectors.card_history(card),
            "steps": selectors.first_entry_steps(card, today) if not card.legacy else [],
            "applications": selectors.card_applications(card),
            "open_app": open_app,
            "may_file": may_file and card.status == CardStatus.ACTIVE and open_app is None,
            "may_enter": may_file and card.status == CardStatus.NOTICE_ISSUED,
            "may_photo": permissions.may_set_photo(actor, card)
            and card.status in (CardStatus.APPLIED, CardStatus.NOTICE_ISSUED, CardStatus.ACTIVE),
            "entry_form": EntryForm(initial={"entry_date": today}),
            "decision_form": DecisionForm(prefix=f"a{open_app.pk}") if open_app else None,
            "may_decide": permissions.may_decide(actor, card),
            "own": permissions.is_holder(actor, card),
            "today": today,
            "photo_error": photo_error,
            "legacy_extension_opens": _extension_opens(card) if card.legacy else None,
        },
        status=status,
    )


@login_required
def card_qr_png(request: HttpRequest, pk: int) -> HttpResponse:
    card = _card(request_actor(request), pk, audit=False)
    token = selectors.card_current_token(card)
    if token is None:
        raise Http404
    response = HttpResponse(qr.png(token.text, scale=8), content_type="image/png")
    response["Content-Disposition"] = (
        f'attachment; filename="card-{card.card_number or card.pk}-qr.png"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def card_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the holder's photo (same access as the card). POST: upload it (employer HR, agency)."""
    actor = request_actor(request)
    card = _card(actor, pk, audit=False)
    if request.method == "POST":
        upload = request.FILES.get("photo")
        try:
            services.card_photo_set(
                actor=actor,
                card_id=card.pk,
                photo=upload.read(services.PHOTO_MAX_BYTES + 1) if upload else b"",
            )
        except RuleError as exc:
            if exc.field == "photo" and exc.status in (400, 413):  # the file itself: show it there
                return _detail(request, actor, _card(actor, pk), card_rule_message(exc), exc.status)
            messages.error(request, card_rule_message(exc))
        else:
            messages.success(request, _("The photo was saved."))
        return redirect("cards:detail", pk=card.pk)
    if not card.photo:
        raise Http404
    response = HttpResponse(bytes(card.photo), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def card_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    card = _card(request_actor(request), pk)
    token = selectors.card_current_token(card)
    response = HttpResponse(
        pdf.card_pdf(card, token.text if token else None), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="card-{card.card_number or card.pk}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def card_file(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """File an extension, a change or a deregistration (employer's HR; the holder once the employer
    is gone; agency staff)."""
    form_class = FILING_FORMS.get(kind)
    if form_class is None:
        raise Http404
    actor = request_actor(request)
    card = _card(actor, pk, audit=False)
    if not permissions.may_file(actor, card):
        raise PermissionDenied
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if isinstance(form, ExtensionForm):
                services.card_extend_request(
                    actor=actor, card_id=card.pk, new_valid_to=data["new_valid_to"]
                )
            elif isinstance(form, ChangeForm):
                services.card_change_request(
                    actor=actor,
                    card_id=card.pk,
                    changes=form.changes(),
                    change_date=data["change_date"],
                )
            else:
                services.card_deregister_request(
                    actor=actor, card_id=card.pk, reason=data["reason"], end_date=data["end_date"]
                )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(
                request, _("The application has been sent to the social insurance agency.")
            )
            return redirect("cards:detail", pk=card.pk)
    titles = {
        "extension": _("Apply to extend the card"),
        "change": _("Apply to change the card"),
        "deregistration": _("Apply to deregister the card"),
    }
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "cards/file.html",
        {"form": form, "card": card, "kind": kind, "title": titles[kind]},
        status=status,
    )


@login_required
@require_POST
def card_entry(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    card = _card(actor, pk, audit=False)
    form = EntryForm(request.POST)
    if form.is_valid():
        try:
            services.card_record_entry(
                actor=actor, card_id=card.pk, entry_date=form.cleaned_data["entry_date"]
            )
        except RuleError as exc:
            messages.error(request, card_rule_message(exc))
        else:
            messages.success(request, _("Entry recorded: the card is active."))
    else:
        messages.error(request, _("Enter the date of entry."))
    return redirect("cards:detail", pk=card.pk)


# --- agency decisions ---------------------------------------------------------------------------


def _queue(
    request: HttpRequest, actor: Actor, failed: DecisionForm | None = None, status: int = 200
) -> HttpResponse:
    """The queue again, with a refused decision's form showing its error (list_views.queue is
    the page itself)."""
    pending = selectors.applications_awaiting_decision(actor=actor)
    found = lists.list_page(list_views.QUEUE, request, pending)
    return list_views.render_queue(request, actor, found, failed=failed, status=status)


@login_required
@require_POST
def decide(request: HttpRequest, app_pk: int) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.may_decide_applications(actor):
        raise PermissionDenied
    try:
        app = selectors.application_get(actor=actor, application_id=app_pk)
    except NotFound:
        raise Http404 from None
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
            if request.POST.get("next") == "card":
                messages.error(request, _("Give a reason to reject."))
                return redirect("cards:detail", pk=app.card_id)
            return _queue(request, actor, failed=form, status=400)
        messages.error(request, card_rule_message(exc))
    else:
        if approve:
            messages.success(request, _("Application approved."))
        else:
            messages.success(request, _("Application rejected; the employer has been told why."))
    target = request.POST.get("next", "")
    if target == "card":
        return redirect("cards:detail", pk=app.card_id)
    return redirect("cards:queue")


# --- older physical permits (agency) -------------------------------------------------------------


@login_required
def legacy_import(request: HttpRequest) -> HttpResponse:
    """Agency staff bring one physical permit, or a file of them, on file (all rows or none)."""
    from expatsi.cards.legacy_import import legacy_permits_import

    actor = request_actor(request)
    if not permissions.may_import_legacy_permits(actor):
        raise PermissionDenied
    one = LegacyPermitForm(prefix="one")
    upload = LegacyFileForm(prefix="file")
    report = None
    status = 200
    if request.method == "POST" and "one-permit_number" in request.POST:
        one = LegacyPermitForm(request.POST, prefix="one")
        if one.is_valid():
            try:
                result = legacy_permits_import(actor=actor, rows=[one.as_row()], dry_run=False)
            except RuleError as exc:
                one.add_rule_error(exc)
            else:
                for err in result.errors:
                    one.add_error(
                        err.column if err.column in one.fields else None,
                        card_rule_message(RuleError(err.code, err.message, err.column)),
                    )
                done = [r for r in result.results if r.card_id]
                if result.ok and done:
                    messages.success(request, _("The physical work permit is on file."))
                    return redirect("cards:detail", pk=done[0].card_id)
        status = 400
    elif request.method == "POST":
        upload = LegacyFileForm(request.POST, request.FILES, prefix="file")
        if upload.is_valid():
            checked = upload_check(
                upload,
                lambda f: legacy_permits_import(
                    actor=actor,
                    rows=rows_from_file(f.name, f.data),
                    dry_run=upload.cleaned_data["dry_run"],
                ),
                message=card_rule_message,
            )
            report = checked[1] if checked is not None else None
        if not upload.is_valid() or (report is not None and not report.ok):
            status = 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(
        request,
        "cards/legacy_import.html",
        {"one": one, "upload": upload, "report": report},
        status=status,
    )
