"""The second step of signing in, and the "Two-step sign-in" page (enrol, recovery codes, reset).

The password step is the portal's (and the admin's) throttled sign-in form; it signs the session
in, and :class:`~expatsi.access.middleware.SecondFactorMiddleware` sends a session that still lacks
its code (or, for agency staff, an authenticator) here before anything else.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login

from expatsi.access import twofactor
from expatsi.accounts import services
from expatsi.web.actors import request_actor
from expatsi.web.forms import PortalForm


class CodeForm(PortalForm):
    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=20,
        help_text=gettext_lazy(
            "The 6 digits your authenticator app shows now, or one of your recovery codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )


class EnrolForm(PortalForm):
    code = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=20,
        help_text=gettext_lazy("The 6 digits the app shows for expatsi."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next(request: HttpRequest) -> str:
    """Where to go once verified: the page that sent the user here, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _mark_verified(request: HttpRequest, device: Any) -> None:
    """The session now counts as verified by ``device``; a new session key, as at any change of
    privilege (a key seen before the second step is worth nothing after it)."""
    request.session.cycle_key()
    otp_login(request, device)


def _refusal(result: twofactor.CodeResult) -> str:
    if result.outcome == "locked":
        return _(
            "Too many wrong codes. The second step of this account is locked for %(minutes)d "
            "minutes."
        ) % {"minutes": max(1, (result.retry_after + 59) // 60)}
    if result.outcome == "wait":
        return ngettext(
            "Too many wrong codes in a row. Wait %(seconds)d second and try again.",
            "Too many wrong codes in a row. Wait %(seconds)d seconds and try again.",
            result.retry_after,
        ) % {"seconds": result.retry_after}
    if result.recovery:
        return _("This recovery code is not valid, or it has been used already.")
    return _(
        "This code is not correct. Enter the 6 digits the app shows now (they change every "
        "30 seconds)."
    )


@never_cache
@login_required
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    user = request.user
    next_url = _next(request)
    if twofactor.is_verified(user):
        return HttpResponseRedirect(next_url)
    if not twofactor.has_second_factor(user):
        if twofactor.second_factor_required(user):
            return HttpResponseRedirect(_with_next("two_step", next_url))
        return HttpResponseRedirect(next_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = twofactor.check_code(user, form.cleaned_data["code"])
        if result.outcome == "ok":
            _mark_verified(request, result.device)
            if result.recovery:
                left = services.recovery_code_used(actor=request_actor(request), user=user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code; %(n)d is left. Make new ones on "
                        "the Two-step sign-in page.",
                        "You signed in with a recovery code; %(n)d are left. Make new ones on "
                        "the Two-step sign-in page.",
                        left,
                    )
                    % {"n": left},
                )
            return HttpResponseRedirect(next_url)
        form.add_error("code", _refusal(result))
    return render(request, "access/login_verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
def two_step(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator (agency staff must, others may), or, once set up: new recovery codes
    and turning it off (for agency staff: setting up a new one). Changes need a current code."""
    user = request.user
    next_url = _next(request)
    required = twofactor.second_factor_required(user)
    if not twofactor.has_second_factor(user):
        return _enrol(request, next_url, required=required)
    if not twofactor.is_verified(user):
        return redirect(_with_next("login_verify", reverse("two_step")))
    action = request.POST.get("action", "") if request.method == "POST" else ""
    codes_form = CodeForm(request.POST if action == "codes" else None, prefix="codes")
    remove_form = CodeForm(request.POST if action == "remove" else None, prefix="remove")
    form = {"codes": codes_form, "remove": remove_form}.get(action)
    if form is not None and form.is_valid():
        result = twofactor.check_code(user, form.cleaned_data["code"])
        if result.outcome != "ok":
            form.add_error("code", _refusal(result))
        elif action == "codes":
            codes = services.recovery_codes_renew(actor=request_actor(request), user=user)
            return _show_codes(request, codes, reverse("two_step"))
        else:
            services.second_factor_reset(
                actor=request_actor(request), user=user, reason="removed by the user"
            )
            messages.success(
                request,
                _("Set up your new authenticator app now.")
                if required
                else _("Two-step sign-in is off."),
            )
            return redirect("two_step")
    return render(
        request,
        "access/two_step.html",
        {
            "enrolled": True,
            "required": required,
            "codes_left": twofactor.recovery_codes_left(user),
            "codes_form": codes_form,
            "remove_form": remove_form,
        },
    )


def _enrol(request: HttpRequest, next_url: str, *, required: bool) -> HttpResponse:
    user = request.user
    device = twofactor.enrolment_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = twofactor.check_code(user, form.cleaned_data["code"], device=device)
        if result.outcome == "ok":
            codes = services.second_factor_confirm(
                actor=request_actor(request), user=user, device=device
            )
            _mark_verified(request, result.device)
            return _show_codes(request, codes, next_url, enrolled=True)
        form.add_error("code", _refusal(result))
    return render(
        request,
        "access/two_step.html",
        {
            "enrolled": False,
            "required": required,
            "form": form,
            "next": next_url,
            "qr": twofactor.qr_data_uri(device),
            "secret": twofactor.secret_groups(device),
            "account": twofactor.account_label(user),
        },
    )


def _show_codes(
    request: HttpRequest, codes: list[str], next_url: str, *, enrolled: bool = False
) -> HttpResponse:
    """Recovery codes are shown in this one answer and never again (never cached)."""
    return render(
        request,
        "access/recovery_codes.html",
        {
            "codes": [twofactor.format_recovery_code(c) for c in codes],
            "next": next_url,
            "enrolled": enrolled,
        },
    )
