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

from django.db.models import Exists, OuterRef, Q

from expatsi.access.actors import Actor
from expatsi.benefits.models import Reporter, Trigger
from expatsi.insurance.models import Employment
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


# --- pensions paid abroad and the annual proof of life (issue #11) ---------------------------------
#
# - **The person**: applies for their own pension (password typed again), sees their award and
#   its explanation, proves they are alive online (password again) or uploads a life certificate
#   (embassy or consulate; notarised and apostilled).
# - **Agency staff** of the pension's region: apply for a person at the counter, review and award,
#   upload a certificate brought in, record a proof of life made in person, review certificates,
#   run the monthly pension payments, stop a pension on death.
# - **Jobs** (system): reminders, suspension on lapse, payment runs, stop on death.
# - **Employer HR, API tokens, the public**: nothing. A pension is the person's.


class PensionAct(StrEnum):
    SEE = "see"
    APPLY = "apply"
    REVIEW = "review"  # award or reject; review a certificate
    PROVE_ONLINE = "prove_online"  # the person, password typed again
    UPLOAD_PROOF = "upload_proof"  # a certificate (person or staff)
    PROVE_IN_PERSON = "prove_in_person"  # staff record the person at the counter
    PAY = "pay"
    STOP = "stop"  # death
    LAPSE = "lapse"  # the daily job


PENSION_PERSON_ACTS = frozenset(
    {PensionAct.SEE, PensionAct.APPLY, PensionAct.PROVE_ONLINE, PensionAct.UPLOAD_PROOF}
)
PENSION_AGENCY_ACTS = frozenset(
    {
        PensionAct.SEE,
        PensionAct.APPLY,
        PensionAct.REVIEW,
        PensionAct.UPLOAD_PROOF,
        PensionAct.PROVE_IN_PERSON,
        PensionAct.PAY,
        PensionAct.STOP,
    }
)
PENSION_SYSTEM_ACTS = frozenset({PensionAct.SEE, PensionAct.PAY, PensionAct.STOP, PensionAct.LAPSE})


def pension_allowed(
    actor: Actor, act: PensionAct, *, person_id: int | None = None, region_code: str = ""
) -> bool:
    if actor.kind == "employee":
        return act in PENSION_PERSON_ACTS and person_id is not None and actor.person_id == person_id
    if actor.kind == "agency":
        return act in PENSION_AGENCY_ACTS and actor.covers_region(region_code)
    if actor.kind == "system":
        return act in PENSION_SYSTEM_ACTS
    return False


def require_pension(
    actor: Actor, act: PensionAct, *, person_id: int | None = None, region_code: str = ""
) -> None:
    if not pension_allowed(actor, act, person_id=person_id, region_code=region_code):
        raise Forbidden("forbidden", f"you may not {act.value.replace('_', ' ')} here", "")


def may_use_pensions(actor: Actor) -> bool:
    """Call the pensions API or open its pages at all: the person and agency staff (HR, tokens:
    403)."""
    return actor.kind in ("employee", "agency")


def require_use_pensions(actor: Actor) -> None:
    if not may_use_pensions(actor):
        raise Forbidden("forbidden", "pensions are the person's and the agency's", "")


# --- death and inheritance (benefits/death.py) ----------------------------------------------------
#
# - **Employer HR** (a signed-in HR user or the employer's API token) report the death of a person
#   their employer employed on the date of death, with evidence, and see the reports about their
#   employers' staff — not the evidence, the balance or the claim.
# - **Agency staff** of the region (the employer's of the last employment) record a report — their
#   own, a family member's (the family member's name and relationship written down, the evidence
#   filed), or an employer's sent on paper; see the evidence and the balance on the date of death;
#   file the heirs' claim with its documents; decide the shares (a second officer above the
#   threshold: four eyes); pay through the payment runs.
# - **The person, other employees, the public**: nothing (a family member reports at the agency).


class DeathAct(StrEnum):
    REPORT = "report"  # record a death
    SEE = "see"  # a report (HR: without evidence or balance)
    EXAMINE = "examine"  # the evidence, the balance, the claims
    CLAIM = "claim"  # file an inheritance claim and its documents
    DECIDE = "decide"  # decide the shares, first or second
    PAY = "pay"  # re-issue an heir's payout


DEATH_AGENCY_ACTS = frozenset(DeathAct)
DEATH_HR_ACTS = frozenset({DeathAct.REPORT, DeathAct.SEE})


def death_allowed(actor: Actor, act: DeathAct, *, region_code: str = "") -> bool:
    """Whether ``actor`` may take ``act`` on a report (or claim) of ``region_code``; which
    report HR may see or make is the scope's question (``death_scope``, ``death.py``)."""
    if actor.kind == "agency":
        return act in DEATH_AGENCY_ACTS and actor.covers_region(region_code)
    if actor.kind == "hr":
        return act in DEATH_HR_ACTS
    if actor.kind == "system":
        return act in (DeathAct.SEE, DeathAct.EXAMINE, DeathAct.PAY)
    return False


def death_require(actor: Actor, act: DeathAct, *, region_code: str = "") -> None:
    if not death_allowed(actor, act, region_code=region_code):
        raise Forbidden("forbidden", f"you may not {act.value} here", "")


def may_use_deaths(actor: Actor) -> bool:
    """Call the deaths API, open the deaths pages: employer HR and agency staff."""
    return actor.kind in ("hr", "agency")


def require_use_deaths(actor: Actor) -> None:
    if not may_use_deaths(actor):
        raise Forbidden("forbidden", "deaths are reported by the employer or at the agency", "")


def may_examine_deaths(actor: Actor) -> bool:
    """The evidence, the balance and the inheritance claims: agency staff."""
    return actor.kind == "agency"


def require_examine_deaths(actor: Actor) -> None:
    if not may_examine_deaths(actor):
        raise Forbidden("forbidden", "the evidence and the inheritance are the agency's", "")


def reporter_of(actor: Actor, requested: str) -> str:
    """Who the report is from: HR's is always the employer's; agency staff say whether the news
    came from the employer (on paper), a family member at the counter, or the agency itself."""
    return Reporter.EMPLOYER if actor.kind == "hr" else requested


def death_scope(actor: Actor) -> Q | None:
    """The death reports ``actor`` may see, as a filter on DeathReport (None: every one): agency
    staff those of their regions whose person they may see; HR those of people their employers
    employed (any employment); jobs all; anyone else none."""
    if actor.kind == "system":
        return None
    if actor.kind == "agency":
        people = Q(person__in=persons_visible(actor))
        regions = region_scope(actor)
        return people if regions is None else regions & people
    if actor.kind == "hr":
        employed = Employment.objects.filter(
            person=OuterRef("person"), employer_id__in=sorted(actor.employer_ids)
        )
        return Q(Exists(employed))
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
