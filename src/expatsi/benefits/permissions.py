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

from expatsi.access.actors import Actor
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


def is_person(actor: Actor) -> bool:
    return actor.kind == "employee" and actor.person_id is not None


def is_staff(actor: Actor) -> bool:
    return actor.kind == "agency"
