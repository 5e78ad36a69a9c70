"""Who may see and do what with an Integrated Card: the one place these rules are written down.
Services, selectors, pages and the API ask these questions; none writes its own.

- **agency staff** see the cards of employers in their regions (every region, or some), file for
  them, decide the applications and bring older physical permits on file; **system** jobs may do
  all of it everywhere;
- an employer's **HR** (signed-in users and API tokens) see their employer's cards, apply for
  new ones and file extensions, changes and deregistrations for them, and provide the photo;
- a **foreign employee** sees their own cards, and files for them only once their employer no
  longer exists (otherwise the employer files: they are told so, 403);
- anyone else sees no card (the public verifies codes instead) and learns nothing (404).
"""

from __future__ import annotations

from typing import Literal

from django.db.models import Q

from expatsi.access.actors import Actor
from expatsi.cards.models import Card
from expatsi.employers.models import Employer
from expatsi.employers.permissions import may_act_for, may_act_in_region, require_act_for
from expatsi.rules.errors import Forbidden, NotFound

# As whom an application is filed (CardApplication.filed_as).
FilingRole = Literal["employer", "agency", "foreigner"]

# --- which cards ----------------------------------------------------------------------------------


def card_scope(actor: Actor, prefix: str = "") -> Q | None:
    """The cards ``actor`` may see, as a filter on Card (``prefix`` reaches the card from a related
    model, e.g. ``"card__"`` for its applications); None means every card."""
    if actor.covers_every_region:
        return None
    if actor.kind == "agency":
        return Q(**{f"{prefix}employer__region_code__in": actor.regions or ()})
    if actor.kind == "hr":
        return Q(**{f"{prefix}employer_id__in": actor.employer_ids})
    if actor.kind == "employee" and actor.person_id is not None:
        return Q(**{f"{prefix}person_id": actor.person_id})
    return Q(pk__in=[])


def may_list_cards(actor: Actor) -> bool:
    """Open the card pages at all: anyone with a role (the public verifies codes instead)."""
    return actor.kind != "public"


def is_holder(actor: Actor, card: Card) -> bool:
    """The foreign employee the card belongs to."""
    return actor.is_person(card.person_id)


# --- filing ---------------------------------------------------------------------------------------


def may_apply(actor: Actor, employer: Employer) -> bool:
    """File a first application (work permit notice and card) for a foreigner ``employer`` hires:
    its HR or agency staff of its region."""
    return may_act_for(actor, employer)


def require_apply(actor: Actor, employer: Employer) -> None:
    require_act_for(actor, employer)


def filing_role(actor: Actor, card: Card) -> FilingRole | None:
    """As whom ``actor`` may file for this card (an extension, a change, a deregistration, the
    date of entry), or None: the employer's HR, agency staff of its region, or the holder once
    the employer no longer exists."""
    if actor.is_hr_of(card.employer_id):
        return "employer"
    if may_act_in_region(actor, card.employer.region_code):
        return "agency"
    if is_holder(actor, card) and card.employer.dissolved_on is not None:
        return "foreigner"
    return None


def may_file(actor: Actor, card: Card) -> bool:
    return filing_role(actor, card) is not None


def require_filing_role(actor: Actor, card: Card) -> FilingRole:
    """As whom ``actor`` files; the holder whose employer still exists is told that the employer
    files (403), anyone else learns nothing (404)."""
    role = filing_role(actor, card)
    if role is not None:
        return role
    if is_holder(actor, card):
        raise Forbidden(
            "employer_files",
            "your employer files card applications; you may file only once it no longer exists",
            "",
        )
    raise NotFound("not_found", f"no card {card.pk} that you may see", "card_id")


def may_set_photo(actor: Actor, card: Card) -> bool:
    """Provide the holder's photo: the employer's HR or agency staff, never the holder."""
    return filing_role(actor, card) in ("employer", "agency")


def require_set_photo(actor: Actor, card: Card) -> None:
    if require_filing_role(actor, card) == "foreigner":
        raise Forbidden("employer_files", "the employer provides the photo", "photo")


# --- decisions ------------------------------------------------------------------------------------


def may_decide_applications(actor: Actor) -> bool:
    """See the queue of applications awaiting a decision and decide them: agency staff."""
    return actor.is_agency


def may_decide(actor: Actor, card: Card) -> bool:
    """Approve or reject an application for this card: agency staff of its employer's region."""
    return may_act_in_region(actor, card.employer.region_code)


def require_decide(actor: Actor, card: Card, application_id: int) -> None:
    """HR and foreign employees are told that only the agency decides (403); anyone else
    learns nothing (404)."""
    if may_decide(actor, card):
        return
    if actor.kind in ("hr", "employee"):
        raise Forbidden("forbidden", "only agency staff decide card applications", "")
    raise NotFound("not_found", f"no application {application_id}", "application_id")


# --- older physical permits -----------------------------------------------------------------------


def may_import_legacy_permits(actor: Actor) -> bool:
    """Bring physical work permits issued before the Integrated Card on file: agency staff."""
    return actor.is_agency


def may_import_legacy_permit(actor: Actor, employer: Employer) -> bool:
    """...for an employer of their region."""
    return may_act_in_region(actor, employer.region_code)


# --- application documents ------------------------------------------------------------------------


def may_see_card_documents(actor: Actor, card: Card) -> bool:
    """See an application's documents (passport scan, contract, degree, medical report): the
    employer's HR, who provide them, and agency staff of its region, who decide; not the holder
    (who has the originals), nor anyone else."""
    return filing_role(actor, card) in ("employer", "agency")


def require_attach_documents(actor: Actor, card: Card) -> None:
    """Attach them: the same people (the employer applies; the agency may add what it was sent)."""
    if not may_see_card_documents(actor, card):
        raise NotFound("not_found", f"no card {card.pk} that you may see", "card_id")


def may_open_application_form(actor: Actor) -> bool:
    """Open the first-application form: HR of an employer, or agency staff (the form then offers
    only the employers each may apply for: ``may_apply``)."""
    return (actor.kind == "hr" and bool(actor.employer_ids)) or actor.is_agency
