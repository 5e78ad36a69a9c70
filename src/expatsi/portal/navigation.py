"""The menu of a signed-in actor: the pages their role may open, asked of each app's permission
policy (the same questions the pages ask), in a fixed order. Registered with ``web`` at start."""

from __future__ import annotations

from django.utils.translation import gettext as _

from expatsi.access.actors import Actor
from expatsi.audit.permissions import may_read_audit_trail
from expatsi.benefits import permissions as benefits
from expatsi.billing import permissions as billing
from expatsi.cards.permissions import may_decide_applications
from expatsi.cases import permissions as cases
from expatsi.employers.permissions import may_administer
from expatsi.insurance.permissions import may_decide_registrations, may_use_hire_pages
from expatsi.people.permissions import own_person_id


def menu(actor: Actor) -> list[tuple[str, str]]:
    items = [("home", _("Home"))]
    if may_use_hire_pages(actor):
        items += [("hire_new", _("Register a new hire")), ("hire_import", _("Bulk import"))]
    if own_person_id(actor) is not None:
        items.append(("me", _("My record")))
    if may_decide_registrations(actor):
        items.append(("registrations", _("Registrations")))
    if may_read_audit_trail(actor):
        items.append(("audit:list", _("Audit trail")))
    items.append(("cards:list", _("Cards")))
    if may_decide_applications(actor):
        items.append(("cards:queue", _("Card decisions")))
    items += _billing(actor)
    if benefits.is_staff(actor):
        items.append(("benefits:queue", _("Lump sums")))
    if benefits.is_person(actor):
        items.append(("benefits:leaving", _("Leaving China")))
    if benefits.is_staff(actor):
        items.append(("benefits:pensions", _("Pensions")))
    if benefits.is_person(actor):
        items.append(("benefits:my_pension", _("My pension")))
    if benefits.may_use_deaths(actor):
        items.append(("benefits:deaths", _("Deaths and inheritance")))
    if benefits.may_review_programmes(actor):
        items.append(("benefits:programme_queue", _("Benefit programmes")))
    elif benefits.may_apply_programmes(actor):
        items.append(("benefits:programmes", _("Benefit programmes")))
    if cases.is_staff(actor):
        items += [
            ("cases:dashboard", _("Compliance")),
            ("cases:findings", _("Findings")),
            ("cases:list", _("Enforcement cases")),
        ]
    elif cases.may_see_orders(actor):
        items.append(("cases:list", _("Orders to rectify")))
    if cases.may_see_disputes(actor):
        items.append(("cases:disputes", _("Disputes")))
    if cases.may_use_complaints(actor):
        items.append(("cases:complaints", _("Complaints and reports")))
    items.append(("notify:inbox", _("Inbox")))
    if may_administer(actor):
        # Not "Administration": that is the Django admin's link beside the user's name.
        items.append(("administration:employers", _("Employers and HR access")))
    return items


def _billing(actor: Actor) -> list[tuple[str, str]]:
    """Billing's pages by role, asked of billing's policy: agency staff the collection and the
    payments they record; HR their employer's bills, bases and payments; a foreign employee their
    own contributions."""
    if billing.may_see_collection(actor):
        return [("billing:collection", _("Collection")), ("billing:payments", _("Payments"))]
    if billing.may_see_bills(actor):
        return [
            ("billing:bills", _("Bills")),
            ("billing:declarations", _("Contribution bases")),
            ("billing:payments", _("Payments")),
        ]
    if billing.has_own_record(actor):
        return [("billing:me", _("My contributions"))]
    return []
