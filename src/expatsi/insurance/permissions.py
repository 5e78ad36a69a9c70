"""Who may see and do what in employment and social insurance registration: the one place these
rules are written down. Services, selectors, pages and the API ask these questions.

Which **people** an actor may see is decided here, not in ``people``: HR see the people their
employers employ now (or will), region staff the people ever employed in their regions, so the
answer needs employment, which lives in this context. The roles:

- **agency staff** see the people, employments and registrations of their regions (every region,
  or some) and decide registrations; **system** jobs see everything;
- an employer's **HR** (signed-in users and API tokens) see the employments and registrations of
  their employer's *current* staff, file hires, employments and registrations for their employer,
  and learn (403) that only the agency decides a registration of their own employer;
- a **foreign employee** sees their own record;
- anyone else sees nothing, and learns nothing (404).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.employers.models import Employer
from expatsi.employers.permissions import may_act_for, require_act_for
from expatsi.insurance.models import Employment, Registration
from expatsi.rules.errors import Forbidden, NotFound

# --- what an actor sees ---------------------------------------------------------------------------


def _current_employment(employer_ids: frozenset[int]) -> Exists:
    """A person (the outer row) employed by one of ``employer_ids`` now or from a later date."""
    today = timezone.localdate()
    return Exists(
        Employment.objects.filter(person=OuterRef("pk"), employer_id__in=employer_ids).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today)
        )
    )


def person_scope(actor: Actor) -> Q | None:
    """The people ``actor`` may see, as a filter on Person; None means everyone.

    Agency: people employed in its regions (ever); HR: people its employers employ now (or will);
    employee: themself."""
    if actor.covers_every_region:
        return None
    if actor.kind == "agency":
        in_regions = Employment.objects.filter(
            person=OuterRef("pk"), employer__region_code__in=actor.regions or ()
        )
        return Q(Exists(in_regions))
    if actor.kind == "hr":
        return Q(_current_employment(actor.employer_ids))
    if actor.kind == "employee" and actor.person_id is not None:
        return Q(pk=actor.person_id)
    return Q(pk__in=[])


def employment_scope(actor: Actor) -> Q | None:
    """The employments ``actor`` may see; None means every one. HR see every employment row of
    their employers' current staff with their employer (earlier versions and earlier periods
    included), not the staff who have left."""
    if actor.covers_every_region:
        return None
    if actor.kind == "agency":
        return Q(employer__region_code__in=actor.regions or ())
    if actor.kind == "hr":
        today = timezone.localdate()
        engaged = (
            Employment.objects.filter(employer_id__in=actor.employer_ids)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .values("person_id")
        )
        return Q(employer_id__in=actor.employer_ids, person_id__in=engaged)
    if actor.kind == "employee" and actor.person_id is not None:
        return Q(person_id=actor.person_id)
    return Q(pk__in=[])


def registration_scope(actor: Actor) -> Q | None:
    """The registrations ``actor`` may see; None means every one. HR see those of their
    employers whose employment has not ended."""
    if actor.covers_every_region:
        return None
    if actor.kind == "agency":
        return Q(employer__region_code__in=actor.regions or ())
    if actor.kind == "hr":
        today = timezone.localdate()
        return Q(employer_id__in=actor.employer_ids) & (
            Q(employment__end_date__isnull=True) | Q(employment__end_date__gte=today)
        )
    if actor.kind == "employee" and actor.person_id is not None:
        return Q(person_id=actor.person_id)
    return Q(pk__in=[])


def may_see_people(actor: Actor) -> bool:
    """Open people's records at all (the person page): agency staff, HR and foreign employees."""
    return actor.kind in ("agency", "hr", "employee", "system")


# --- filing ---------------------------------------------------------------------------------------


def may_file_for(actor: Actor, employer: Employer) -> bool:
    """Record hires, employments and registrations for ``employer``: its HR or agency staff of
    its region (``employers.permissions.may_act_for``)."""
    return may_act_for(actor, employer)


def require_file_for(actor: Actor, employer: Employer) -> None:
    require_act_for(actor, employer)


def may_use_hire_pages(actor: Actor) -> bool:
    """The new-hire form and the bulk import are the HR user's pages (they choose among their
    employers); agency staff file hires through the API."""
    return actor.kind == "hr"


def may_file_certificate(actor: Actor) -> bool:
    """File a certificate of coverage for a person the actor sees: HR or agency staff."""
    return actor.kind in ("agency", "hr", "system")


# --- decisions ------------------------------------------------------------------------------------


def may_decide_registrations(actor: Actor) -> bool:
    """See the queue of submitted registrations and decide them: agency staff."""
    return actor.is_agency


def may_decide_registration(actor: Actor, registration: Registration) -> bool:
    """Accept or reject this registration: agency staff of its employer's region."""
    return actor.covers_region(registration.employer.region_code)


def require_decide_registration(
    actor: Actor, registration: Registration | None, registration_id: int
) -> Registration:
    """The registration, if ``actor`` may decide it. The employer's own HR learns that only the
    agency decides (403); anyone else learns nothing, not even that it exists (404)."""
    if registration is not None and may_decide_registration(actor, registration):
        return registration
    if registration is not None and actor.is_hr_of(registration.employer_id):
        raise Forbidden("forbidden", "only agency staff decide registrations", "")
    raise NotFound(
        "not_found", f"no registration {registration_id} that you may see", "registration_id"
    )
