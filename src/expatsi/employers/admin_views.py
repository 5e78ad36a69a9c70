"""Administration pages for agency administrators: register employers, grant HR access (by
invitation only) and revoke it, and say which regions agency staff work in.

Who may do what is ``employers.permissions`` (the administration section); every write is a
service that checks it again and records an audit event. Views are thin.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi import spreadsheets
from expatsi.access.actors import Actor
from expatsi.employers import permissions, selectors, services
from expatsi.employers.display import display_name
from expatsi.employers.models import Employer, EmployerKind
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.regions import regions
from expatsi.web import lists
from expatsi.web.actors import request_actor
from expatsi.web.forms import PortalForm, country_choices


def _region_label(code: str) -> str:
    found = regions()[code]
    return found.name_zh if (get_language() or "").startswith("zh") else found.name


def _region_choices(actor: Actor) -> list[tuple[str, str]]:
    return [(c, _region_label(c)) for c in sorted(regions()) if actor.covers_region(c)]


def _require_admin(actor: Actor) -> None:
    if not permissions.may_administer(actor):
        raise PermissionDenied


# --- employers ------------------------------------------------------------------------------------


def _search(qs: QuerySet[Any], query: str) -> QuerySet[Any]:
    return qs.filter(selectors.employer_search_q(query))


def _by_region(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(region_code=value)


def _by_kind(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(kind=value)


def _employer_row(e: Employer) -> list[spreadsheets.Cell]:
    return [e.name, e.name_zh, e.uscc, _region_label(e.region_code), str(e.get_kind_display())]


def employers_spec(actor: Actor) -> lists.ListSpec:
    return lists.ListSpec(
        columns=(
            lists.Column("name", gettext_lazy("Employer"), ("name",)),
            lists.Column("uscc", gettext_lazy("Unified social credit code"), ("uscc",)),
            lists.Column("region", gettext_lazy("Region"), ("region_code", "name")),
            lists.Column("kind", gettext_lazy("Kind")),
            lists.Column("created", gettext_lazy("Registered"), ("created_at",)),
        ),
        default_sort="name",
        filters=(
            lists.Filter(
                "region",
                gettext_lazy("Region"),
                _region_choices(actor),
                _by_region,
                any_label=gettext_lazy("Every region"),
            ),
            lists.Filter(
                "kind",
                gettext_lazy("Kind"),
                EmployerKind.choices,
                _by_kind,
                any_label=gettext_lazy("Any kind"),
            ),
        ),
        search=_search,
        search_label=gettext_lazy("Name or unified social credit code"),
        export_name="employers",
        export_header=("name", "name_zh", "uscc", "region", "kind"),
        export_row=_employer_row,
    )


@login_required
def employer_list(request: HttpRequest) -> HttpResponseBase:
    actor = request_actor(request)
    _require_admin(actor)
    spec = employers_spec(actor)
    found = lists.response_or_page(spec, request, selectors.employer_table(actor=actor))
    if not isinstance(found, lists.ListPage):
        return found
    return render(
        request,
        "employers/admin/employers.html",
        {"list": found, "may_set_regions": permissions.may_set_staff_regions(actor)},
    )


class EmployerForm(PortalForm):
    name = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200)
    name_zh = forms.CharField(label=gettext_lazy("Chinese name"), max_length=200, required=False)
    uscc = forms.CharField(
        label=gettext_lazy("Unified social credit code"),
        max_length=18,
        help_text=gettext_lazy("18 characters; the last is a check character."),
    )
    region_code = forms.ChoiceField(label=gettext_lazy("Region"))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=EmployerKind.choices)
    overseas_company = forms.CharField(
        label=gettext_lazy("Overseas company"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Branches and representative offices only."),
    )
    overseas_country = forms.ChoiceField(
        label=gettext_lazy("Overseas company's country"), required=False
    )
    address = forms.CharField(label=gettext_lazy("Address"), max_length=300, required=False)
    email = forms.EmailField(label=gettext_lazy("Contact e-mail"), required=False)
    identifier_fields = ("uscc",)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field = self.fields["region_code"]
        country_field = self.fields["overseas_country"]
        assert isinstance(region_field, forms.ChoiceField)
        assert isinstance(country_field, forms.ChoiceField)
        region_field.choices = [("", _("Choose…")), *_region_choices(actor)]
        country_field.choices = country_choices(_("None"))


@login_required
def employer_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    _require_admin(actor)
    form = EmployerForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if not permissions.may_create_employer(actor, d["region_code"]):
                raise PermissionDenied
            employer = services.employer_create(
                actor=actor,
                name=d["name"],
                name_zh=d["name_zh"],
                uscc=d["uscc"],
                region_code=d["region_code"],
                kind=d["kind"],
                overseas_company=d["overseas_company"],
                overseas_country=d["overseas_country"],
                address=d["address"],
                email=d["email"],
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(
                request, _("%(employer)s is registered.") % {"employer": display_name(employer)}
            )
            return redirect("administration:employer", pk=employer.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "employers/admin/employer_new.html", {"form": form}, status=status)


# --- HR access ------------------------------------------------------------------------------------


class InviteForm(PortalForm):
    email = forms.EmailField(label=gettext_lazy("E-mail address"), max_length=254)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the invitation"), choices=settings.LANGUAGES
    )


def _employer_or_404(actor: Actor, pk: int) -> Employer:
    try:
        employer = selectors.employer_get(actor=actor, employer_id=pk)
    except NotFound:
        raise Http404 from None
    if not permissions.may_manage_hr_access(actor, employer):
        raise Http404
    return employer


@login_required
def employer_access(request: HttpRequest, pk: int) -> HttpResponse:
    """The employer's HR users and open invitations; invite a new HR user (GET shows, POST
    invites)."""
    actor = request_actor(request)
    _require_admin(actor)
    employer = _employer_or_404(actor, pk)
    form = InviteForm(request.POST or None, initial={"language": (get_language() or "en").lower()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.hr_invite(
                actor=actor,
                employer=employer,
                email=d["email"],
                first_name=d["first_name"],
                last_name=d["last_name"],
                language=d["language"],
                site=request.build_absolute_uri("/"),
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(
                request,
                _("An invitation has been sent to %(email)s. It works once, for 7 days.")
                % {"email": d["email"]},
            )
            return redirect("administration:employer", pk=employer.pk)
    return render(
        request,
        "employers/admin/employer.html",
        {
            "employer": employer,
            "members": list(selectors.hr_members(actor=actor, employer=employer)),
            "invitations": list(selectors.hr_invitations_open(actor=actor, employer=employer)),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def hr_revoke(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    actor = request_actor(request)
    _require_admin(actor)
    employer = _employer_or_404(actor, pk)
    try:
        membership = services.hr_access_revoke(actor=actor, membership_id=membership_pk)
    except NotFound:
        raise Http404 from None
    if membership.employer_id != employer.pk:
        raise Http404
    messages.success(
        request,
        _("%(user)s no longer has HR access to %(employer)s.")
        % {"user": membership.user.get_username(), "employer": display_name(employer)},
    )
    return redirect("administration:employer", pk=employer.pk)


# --- agency staff's regions -----------------------------------------------------------------------


class RegionsForm(forms.Form):
    regions = forms.MultipleChoiceField(
        label=gettext_lazy("Regions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None chosen: every region."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["regions"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(c, _region_label(c)) for c in sorted(regions())]


@login_required
def staff(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.may_set_staff_regions(actor):
        raise PermissionDenied
    rows = [
        (s, RegionsForm(prefix=f"s{s.pk}", initial={"regions": sorted(s.region_codes())}))
        for s in selectors.agency_staff_list(actor=actor)
    ]
    return render(request, "employers/admin/staff.html", {"rows": rows})


@login_required
@require_POST
def staff_regions(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.may_set_staff_regions(actor):
        raise PermissionDenied
    form = RegionsForm(request.POST, prefix=f"s{pk}")
    if not form.is_valid():
        messages.error(request, _("Choose regions from the list."))
        return redirect("administration:staff")
    try:
        member = services.staff_regions_set(
            actor=actor, staff_id=pk, region_codes=form.cleaned_data["regions"]
        )
    except NotFound:
        raise Http404 from None
    except RuleError as exc:
        messages.error(request, str(exc.message))
        return redirect("administration:staff")
    codes = sorted(member.region_codes())
    messages.success(
        request,
        _("%(user)s now works in: %(regions)s.")
        % {
            "user": member.user.get_username(),
            "regions": ", ".join(_region_label(c) for c in codes) if codes else _("every region"),
        },
    )
    return redirect("administration:staff")
