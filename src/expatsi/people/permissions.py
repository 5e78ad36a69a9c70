"""Who may register people and see their identity documents: the one place the rules are
written down. Which people an actor may see at all depends on employment and is decided in
``expatsi.insurance.permissions``.

**Registering people** (a new person, a new passport, a document): agency staff, employers' HR
and system jobs — never the foreign employee, whose documents their employer or the agency files.
The **entry/exit import** from the border authority is the agency's (and system jobs').

**Passport numbers** are shown whole or as ``****1234`` (the last four characters, never more than
half; :func:`expatsi.access.crypto.masked`), in the portal, the API and every export:

- **agency staff** (and system jobs): whole. They check identities, match border records and sort
  out conflicting registrations, which needs the number itself.
- **a foreign employee**: whole, for their own passports (the only ones they can see).
- **employer HR** (portal users and API tokens alike): whole for the *current* passport of a person
  their employer employs now — they file it with work permits and type it into wage declaration
  uploads. Earlier passports are history from before or outside that employment, and are masked.
- **anyone else** (the public card verification page, an unknown kind of actor): masked. The
  verification page shows no passport number at all; this is the fallback should one ever appear.

Import reports echo the numbers the uploader sent in the file: that discloses nothing new.

Callers have already found the person through the actor's scope (``persons_visible``): this
decides how much of a number an actor who may see the record sees, not whether they see it.
"""

from __future__ import annotations

from expatsi.access.actors import Actor
from expatsi.access.crypto import masked
from expatsi.people.models import Passport
from expatsi.rules.errors import Forbidden


def may_see_full_passport(actor: Actor, person_id: int, *, current: bool) -> bool:
    """Whether ``actor`` sees the whole number of a passport of ``person_id``; ``current``: it is
    (or, in a pending card change application, is to become) that person's current passport."""
    if actor.kind in ("agency", "system"):
        return True
    if actor.kind == "employee":
        return actor.person_id is not None and actor.person_id == person_id
    if actor.kind == "hr":
        return current
    return False


def passport_number_for(actor: Actor, passport: Passport) -> str:
    """The passport number as this actor may see it."""
    number = passport.number
    if may_see_full_passport(actor, passport.person_id, current=passport.is_current):
        return number
    return masked(number)


def may_register_people(actor: Actor) -> bool:
    """Create a person, replace a passport, file a document."""
    return actor.kind in ("agency", "hr", "system")


def require_register_people(actor: Actor) -> None:
    if not may_register_people(actor):
        raise Forbidden("forbidden", "only agency staff and employers' HR register people", "")


def may_import_entry_exit(actor: Actor) -> bool:
    """Import the border authority's entry/exit records."""
    return actor.is_agency


def own_person_id(actor: Actor) -> int | None:
    """The person whose own record this actor reads as theirs: a foreign employee's; else None."""
    return actor.person_id if actor.kind == "employee" else None
