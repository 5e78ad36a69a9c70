"""Who may see and act for an employer: the one place these rules are written down.

Services, selectors, pages and the API ask these questions; none of them writes its own. The
roles (``expatsi.access.actors.Actor``):

- **agency staff** act for the employers of their regions (every region, or some); **system**
  jobs and the command line act everywhere;
- an employer's **HR** — a signed-in HR user or the employer's API token — acts for that employer
  only. A token is a machine: it may not hand out access (invite HR users, create tokens);
- a **foreign employee** sees the employers they work or worked for, and acts for none;
- anyone else sees nothing.

Each ``may_*`` answers yes or no; the services raise their refusal (a ``Forbidden`` where the
actor may know the employer exists, a ``NotFound`` where not). A ``require_*`` raises it itself
where several contexts refuse alike.
"""

from __future__ import annotations

from django.db.models import Q

from expatsi.access.actors import Actor
from expatsi.employers.models import Employer
from expatsi.rules.errors import NotFound

# --- which employers ------------------------------------------------------------------------------


def employer_scope(actor: Actor) -> Q | None:
    """The employers ``actor`` may see, as a filter on Employer; None means every employer."""
    if actor.covers_every_region:
        return None
    if actor.kind == "agency":
        return Q(region_code__in=actor.regions or ())
    if actor.kind == "hr":
        return Q(pk__in=actor.employer_ids)
    if actor.kind == "employee" and actor.person_id is not None:
        # A subquery rather than a join: one row per employer, however many employments.
        employed_by = Employer.objects.filter(employments__person_id=actor.person_id)
        return Q(pk__in=employed_by.values("pk"))
    return Q(pk__in=[])


def may_act_in_region(actor: Actor, region_code: str) -> bool:
    """Agency staff of this region (or a system job): they act for every employer there."""
    return actor.covers_region(region_code)


def may_act_for(actor: Actor, employer: Employer) -> bool:
    """HR of ``employer`` or agency staff of its region: may file for it (hires, employments,
    card applications)."""
    return actor.is_hr_of(employer.pk) or may_act_in_region(actor, employer.region_code)


def require_act_for(actor: Actor, employer: Employer) -> None:
    if not may_act_for(actor, employer):
        raise NotFound(
            "not_found", f"no employer {employer.pk} that you may act for", "employer_id"
        )


# --- the employer's record ------------------------------------------------------------------------


def may_register_employer(actor: Actor, region_code: str) -> bool:
    """Employers are registered by agency staff of their region."""
    return may_act_in_region(actor, region_code)


def may_rate_work_injury(actor: Actor, employer: Employer) -> bool:
    """The work-injury rating is set by agency staff of the employer's region."""
    return may_act_in_region(actor, employer.region_code)


# --- HR users -------------------------------------------------------------------------------------


def may_add_hr_user(actor: Actor) -> bool:
    """Only the system makes HR accounts directly (demo data, tests, scripts); people are invited."""
    return actor.kind == "system"


def may_invite_hr(actor: Actor, employer: Employer) -> bool:
    """Agency staff of the region, or the employer's own HR signed in (not its API token)."""
    signed_in_hr = actor.is_hr_of(employer.pk) and actor.via != "token"
    return may_act_in_region(actor, employer.region_code) or signed_in_hr


# --- API tokens -----------------------------------------------------------------------------------


def may_manage_api_tokens(actor: Actor, employer: Employer) -> bool:
    """See the employer's tokens (never their secrets) and revoke them: its HR, the token itself
    included (a leaked token can revoke itself), and agency staff of its region."""
    return actor.is_hr_of(employer.pk) or may_act_in_region(actor, employer.region_code)


def may_create_api_token(actor: Actor, employer: Employer) -> bool:
    """Its HR signed in (a token does not make tokens) and agency staff of its region."""
    signed_in_hr = actor.is_hr_of(employer.pk) and actor.via != "token"
    return signed_in_hr or may_act_in_region(actor, employer.region_code)


# --- administration (agency administrators, in the portal) ----------------------------------------


def is_agency_admin(actor: Actor) -> bool:
    """An agency administrator (a superuser, or agency staff with the admin flag) or the system."""
    return actor.kind == "system" or (actor.kind == "agency" and actor.admin)


def may_administer(actor: Actor) -> bool:
    """Open the administration pages: agency administrators."""
    return is_agency_admin(actor)


def may_create_employer(actor: Actor, region_code: str) -> bool:
    """Register an employer from the administration pages: an administrator of its region."""
    return is_agency_admin(actor) and may_register_employer(actor, region_code)


def may_manage_hr_access(actor: Actor, employer: Employer) -> bool:
    """Grant (by invitation) and revoke HR access to ``employer`` from the administration pages:
    an administrator of its region. Granting is always an invitation to a new account
    (``services.hr_invite``), never attaching an existing one."""
    return is_agency_admin(actor) and may_act_in_region(actor, employer.region_code)


def may_set_staff_regions(actor: Actor) -> bool:
    """Say which regions agency staff work in: an administrator of every region (one limited to
    some regions could otherwise widen their own reach)."""
    return is_agency_admin(actor) and actor.covers_every_region
