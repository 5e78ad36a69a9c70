"""The page to withdraw one fine proposal of a case, with the reason (agency staff, before the
decision); the service is :func:`expatsi.cases.withdrawals.fine_withdraw`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from expatsi.cases import permissions, selectors, withdrawals
from expatsi.cases.forms import REASON_MAX, CasesForm
from expatsi.cases.models import Case
from expatsi.cases.templatetags.compliance import fine_label
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web.actors import request_actor
from expatsi.web.formatting import yuan

MESSAGES = {
    "already_decided": gettext_lazy(
        "The case is decided: its fines are part of the decision and can no longer be withdrawn."
    ),
    "proposal_not_found": gettext_lazy("This case has no such fine proposal."),
    "proposal_not_open": gettext_lazy("This fine proposal can no longer be withdrawn."),
}


class WithdrawForm(CasesForm):
    proposal = forms.TypedChoiceField(
        label=gettext_lazy("Fine proposal"), coerce=int, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=gettext_lazy("Why it is withdrawn"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept in the case's history and in the audit trail."),
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["proposal"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = choices

    def add_rule_error(self, exc: RuleError) -> None:
        message = MESSAGES.get(exc.code)
        if message is None:
            super().add_rule_error(exc)
        else:
            self.add_error(exc.field if exc.field in self.fields else None, str(message))


def _choices(case: Case) -> list[tuple[int, str]]:
    return [
        (
            p.pk,
            _("%(fine)s, %(amount)s, proposed on %(day)s")
            % {
                "fine": fine_label(p.kind),
                "amount": yuan(p.amount_fen),
                "day": date_format(p.proposed_at, "DATE_FORMAT"),
            },
        )
        for p in withdrawals.withdrawable(case)
    ]


@login_required
def withdraw_fine(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.is_staff(actor):
        raise PermissionDenied
    try:
        case = selectors.case_get(actor=actor, case_id=case_id, audit=False)
    except NotFound:
        raise Http404 from None
    if not permissions.allowed(actor, permissions.Act.MANAGE_CASE, region_code=case.region_code):
        raise PermissionDenied
    choices = _choices(case)
    status = 200
    if request.method == "POST":
        form = WithdrawForm(request.POST, choices=choices)
        if form.is_valid():
            try:
                withdrawals.fine_withdraw(
                    actor=actor,
                    case_id=case.pk,
                    proposal_id=form.cleaned_data["proposal"],
                    reason=form.cleaned_data["reason"],
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(request, _("Fine proposal withdrawn."))
                return redirect("cases:detail", case_id=case.pk)
        status = 400
    else:
        initial = {}
        asked = request.GET.get("proposal", "")
        if asked.isdigit() and any(pk == int(asked) for pk, _label in choices):
            initial["proposal"] = int(asked)
        form = WithdrawForm(initial=initial, choices=choices)
    return render(
        request,
        "cases/withdraw_fine.html",
        {"case": case, "form": form, "has_choices": bool(choices)},
        status=status,
    )
