"""Who may do what with departures, terminations and payouts: the one place it is written down.

- **The person** (a foreign employee signed in): sees their own departures and applications,
  declares a departure, chooses to keep the account, and signs the termination application — in
  the portal after typing their password again, or by uploading the signed form. Nobody signs for
  them in the portal.
- **Agency staff** of the region where the employment that ended was (``region_code`` of the
  case): see the case, open one for a person who declares at the counter, upload a signed paper
  form, review applications with an identity check, approve (a second officer above the
  threshold: four eyes), run payments and reconcile the bank's return file.
- **Employer HR, API tokens, the public**: nothing here. The lump sum is the person's money, and
  the employment it came from is over.

Selectors find objects within the actor's scope (an object outside it is not found); this says
whether an actor who can see an object may take the action.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q

from expatsi.access.actors import Actor
from expatsi.benefits.models import Trigger
from expatsi.insurance.selectors import persons_visible
from expatsi.rules.errors import Forbidden


class Act(StrEnum):
    SEE = "see"  # a case, an application
    DECLARE = "declare"  # open a departure
    CHOOSE = "choose"  # keep the account
    SIGN = "sign"  # sign the application in the portal (password)
    UPLOAD_FORM = "upload_form"  # file a signed paper form
    REVIEW = "review"  # identity check and decision, first or second
    PAY = "pay"  # payment runs, reconciliation, re-issue


PERSON_ACTS = frozenset({Act.SEE, Act.DECLARE, Act.CHOOSE, Act.SIGN, Act.UPLOAD_FORM})
AGENCY_ACTS = frozenset({Act.SEE, Act.DECLARE, Act.UPLOAD_FORM, Act.REVIEW, Act.PAY})


def allowed(actor: Actor, act: Act, *, person_id: int | None = None, region_code: str = "") -> bool:
    """``person_id``: whose case; ``region_code``: the case's region (or the run's)."""
    if actor.kind == "employee":
        return act in PERSON_ACTS and person_id is not None and actor.person_id == person_id
    if actor.kind == "agency":
        return act in AGENCY_ACTS and actor.covers_region(region_code)
    if actor.kind == "system":
        return act in (Act.SEE, Act.DECLARE, Act.PAY)
    return False


def require(actor: Actor, act: Act, *, person_id: int | None = None, region_code: str = "") -> None:
    if not allowed(actor, act, person_id=person_id, region_code=region_code):
        raise Forbidden("forbidden", f"you may not {act.value.replace('_', ' ')} here", "")


# --- who uses the departure pages and the API ----------------------------------------------------


def is_person(actor: Actor) -> bool:
    """A foreign employee signed in as themself: the person's pages ("Leaving China")."""
    return actor.kind == "employee" and actor.person_id is not None


def is_staff(actor: Actor) -> bool:
    """Agency staff (signed in; not system jobs): the queue, the decisions, the payment runs."""
    return actor.kind == "agency"


def may_use_departures(actor: Actor) -> bool:
    """Call the departures API at all: the person and agency staff. Employer HR and API tokens
    are refused (403): the lump sum is the person's, and the employment it came from is over."""
    return actor.kind in ("employee", "agency")


def require_use_departures(actor: Actor) -> None:
    if not may_use_departures(actor):
        raise Forbidden("forbidden", "departures are the person's and the agency's", "")


def may_see_applications(actor: Actor) -> bool:
    """Open an application's page: the person (their own) and agency staff (their regions')."""
    return is_person(actor) or is_staff(actor)


def declares_own_departure(actor: Actor) -> bool:
    """Whose departure a declaration is: a foreign employee declares their own (the person named
    in the request is ignored); agency staff name the person at the counter."""
    return actor.kind == "employee"


def may_open_departure_on(actor: Actor, trigger: str) -> bool:
    """Open a departure on this trigger: a person only by declaring it; agency staff and the
    daily job also on a deregistered card, an ended employment or an exit record."""
    return actor.kind != "employee" or trigger == Trigger.DECLARED


def require_open_departure_on(actor: Actor, trigger: str) -> None:
    if not may_open_departure_on(actor, trigger):
        raise Forbidden("forbidden", "a person declares their departure", "trigger")


def may_decide_applications(actor: Actor) -> bool:
    """See the queue of applications awaiting a first or second decision: agency staff."""
    return is_staff(actor)


def may_handle_payouts(actor: Actor) -> bool:
    """Payouts and payment runs through the API: agency staff."""
    return is_staff(actor)


def require_handle_payouts(actor: Actor) -> None:
    if not may_handle_payouts(actor):
        raise Forbidden("forbidden", "payouts are the agency's", "")


def reads_are_audited(actor: Actor) -> bool:
    """Whether reading a departure or an application leaves an audit event: agency staff's reads
    do (they read another person's record); the person's of their own, and jobs', do not."""
    return actor.kind == "agency"


# --- which rows -----------------------------------------------------------------------------------


def region_scope(actor: Actor, field: str = "region_code") -> Q | None:
    """The rows of the regions ``actor`` covers (payouts and payment runs by ``field``): None for
    every row, a filter matching nothing for anyone but agency staff and jobs."""
    if actor.covers_every_region:
        return None
    if actor.kind == "agency":
        return Q(**{f"{field}__in": sorted(actor.regions or ())})
    return Q(pk__in=[])


def case_scope(actor: Actor) -> Q | None:
    """The departures ``actor`` may see, as a filter on DepartureCase (None: every one): the
    person their own; agency staff those of their regions whose person they may see
    (``insurance.selectors.persons_visible``); jobs all; anyone else none."""
    if actor.kind == "employee" and actor.person_id is not None:
        return Q(person_id=actor.person_id)
    if actor.kind == "system":
        return None
    if actor.kind == "agency":
        people = Q(person__in=persons_visible(actor))
        regions = region_scope(actor)
        return people if regions is None else regions & people
    return Q(pk__in=[])


def may_read_signed_form(actor: Actor, region_code: str) -> bool:
    """Download the signed termination form a person or the counter uploaded: agency staff who may
    review the application (the case's region). It carries a signature and passport details, so
    nobody else is served it; each download is audited."""
    return allowed(actor, Act.REVIEW, region_code=region_code)


def may_correct_bank(actor: Actor, *, person_id: int, region_code: str) -> bool:
    """Give corrected bank details after the bank returned a payout: the person (their own) and
    agency staff of the case's region (at the counter, with the person's written instruction)."""
    if actor.kind == "employee":
        return actor.person_id == person_id
    if actor.kind == "agency":
        return actor.covers_region(region_code)
    return False


# --- benefit programmes (benefits/programmes.py) -------------------------------------------------


def may_apply_programmes(actor: Actor) -> bool:
    """Apply for a benefit programme: the card holder, signed in as themself (for themself)."""
    return is_person(actor)


def may_use_programmes(actor: Actor) -> bool:
    """Call the programmes API and pages at all: the person and agency staff (HR, tokens: no)."""
    return actor.kind in ("employee", "agency")


def may_review_programmes(actor: Actor) -> bool:
    """See the queue of programme applications awaiting review: agency staff."""
    return is_staff(actor)


def may_review_programme(actor: Actor, region_code: str) -> bool:
    """Decide a programme application: agency staff of the holder's region."""
    return is_staff(actor) and actor.covers_region(region_code)
