"""The page an invited HR person opens from their e-mail: choose a user name and a password; and
the choice of employer on the pages where an HR user acts for one of theirs.

The invitation page is reachable without signing in (the token in the link is the credential). It
only ever makes a new account; the token is kept out of referrers and caches."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from expatsi.access.actors import client_ip
from expatsi.employers import services
from expatsi.employers.models import Employer
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web.forms import PortalForm


class InvitationForm(PortalForm):
    username = forms.CharField(
        label=gettext_lazy("User name"),
        max_length=150,
        help_text=gettext_lazy("Letters, digits and @ . + - _ only. You sign in with it."),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password2") != data.get("password1"):
            self.add_error("password2", _("The two passwords differ."))
        return data


@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.hr_invitation_open(token)
    if invitation is None:
        raise Http404
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.hr_invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                ip=client_ip(request),
            )
        except NotFound:
            raise Http404 from None
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            if request.user.is_authenticated:
                logout(
                    request
                )  # whoever was signed in on this browser, the new account is not them
            messages.success(request, _("Your account is ready: sign in with your new user name."))
            return redirect("login")
    response = render(
        request,
        "employers/invitation.html",
        {"form": form, "invitation": invitation},
        status=400 if request.method == "POST" else 200,
    )
    # The token in the address never leaves for another site; "same-origin", not "no-referrer":
    # under no-referrer Chromium sends "Origin: null" with the page's own form, which Django's
    # CSRF check refuses (403), so the invitation could not be accepted in a browser.
    response["Referrer-Policy"] = "same-origin"
    return response


def pick_employer(raw: object, employers: list[Employer]) -> Employer:
    """The employer a page is about: the one ``raw`` (a query or form value) names among
    ``employers`` (those the user may act for), else the first. Nobody to act for: 403."""
    if not employers:
        raise PermissionDenied
    for employer in employers:
        if str(employer.pk) == str(raw):
            return employer
    return employers[0]
