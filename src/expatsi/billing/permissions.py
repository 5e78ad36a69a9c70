"""Who may do what in billing: each question asked once, here, and used by the selectors, the
services, the pages and the API alike.

The roles: **agency staff** act for their regions (``regions`` None: every region), **system** jobs
for every region, **employer HR** (portal users and API tokens alike) for their own employers, a
**foreign employee** for themself only, the **public** for nothing. A bill belongs to its employer:
an employee sees contributions, never a bill.

A question "about one employer" is answered from the employer's id and region alone, so it costs no
query; the same rule as a filter on a queryset sits next to it (``…_scope``), and the tests hold the
two to the same answer. Where a refusal must say why (HR of the employer learn that payments are
the agency's work) ``check_…`` raises the error the caller shows; everyone else outside the scope
does not learn that the employer exists (not found).
"""

from __future__ import annotations

from django.db.models import Q

from expatsi.access.actors import Actor
from expatsi.employers.models import Employer
from expatsi.rules.errors import Forbidden, NotFound

EMPLOYER_SIDE = ("hr", "agency", "system")
AGENCY_SIDE = ("agency", "system")


def _every_region(actor: Actor) -> bool:
    return actor.kind == "system" or (actor.kind == "agency" and actor.regions is None)


# --- bills, payments and balances of employers -------------------------------------------------


def may_see_bills(actor: Actor, employer: Employer | None = None) -> bool:
    """May the actor see this employer's bills, payments and balance? HR of the employer and
    agency staff of its region. Without an employer: may the actor see any employer's bills at all
    (the bill and payment pages)?"""
    if employer is None:
        return actor.kind in EMPLOYER_SIDE
    if actor.kind == "hr":
        return employer.pk in actor.employer_ids
    return actor.covers_region(employer.region_code)


def bills_scope(actor: Actor, employer: str = "employer") -> Q | None:
    """:func:`may_see_bills` as a filter on rows with an ``employer`` (bills, payments): None when
    the actor sees every row, a filter matching nothing when it sees none."""
    if _every_region(actor):
        return None
    if actor.kind == "agency":
        return Q(**{f"{employer}__region_code__in": sorted(actor.regions or ())})
    if actor.kind == "hr":
        return Q(**{f"{employer}_id__in": sorted(actor.employer_ids)})
    return Q(pk__in=[])


def may_see_collection(actor: Actor) -> bool:
    """May the actor see what was billed, paid and is outstanding per region and month? Agency
    staff (their regions' bills, by :func:`bills_scope`)."""
    return actor.kind in AGENCY_SIDE


# --- billing runs --------------------------------------------------------------------------------


def may_run_billing(actor: Actor, region_code: str | None = None) -> bool:
    """May the actor start, follow and resume billing runs and recalculations of this region?
    Agency staff of the region. Without a region: may the actor run billing anywhere (the run
    pages)? The run itself is then held to the region asked for."""
    if region_code is None:
        return actor.kind in AGENCY_SIDE
    return actor.covers_region(region_code)


def runs_scope(actor: Actor, region: str = "region_code") -> Q | None:
    """:func:`may_run_billing` as a filter on rows with a region (runs, jobs): None for every row."""
    if _every_region(actor):
        return None
    if actor.kind == "agency":
        return Q(**{f"{region}__in": sorted(actor.regions or ())})
    return Q(pk__in=[])


# --- payments ------------------------------------------------------------------------------------


def may_record_payment(actor: Actor, employer: Employer | None = None) -> bool:
    """May the actor record a payment received from this employer? Agency staff of its region
    (HR do not: a payment arrives from the bank). Without an employer: anywhere at all?"""
    if employer is None:
        return actor.kind in AGENCY_SIDE
    return actor.covers_region(employer.region_code)


def check_record_payment(actor: Actor, employer: Employer) -> None:
    """:func:`may_record_payment`, raising: HR of the employer are told it is the agency's work
    (403), anyone else does not learn that the employer exists (404)."""
    if may_record_payment(actor, employer):
        return
    if may_see_bills(actor, employer):
        raise Forbidden(
            "forbidden", "payments are recorded by the agency or arrive from the bank", ""
        )
    raise NotFound("not_found", f"no employer {employer.pk} that you may see", "employer_id")


def may_import_bank_statement(actor: Actor) -> bool:
    """May the actor import a bank statement? Agency staff; each row's payer is then held to
    :func:`may_record_payment` (a row of another region is a row error)."""
    return actor.kind in AGENCY_SIDE


# --- individual pension accounts ----------------------------------------------------------------


def may_credit_accounts(actor: Actor, employer: Employer | None = None) -> bool:
    """May the actor credit the paid pension contributions of this employer's bills to individual
    accounts? Agency staff of its region, as with its payments. Without an employer: of every
    employer's bills at once (the daily job, the year-end)? System jobs and agency staff of every
    region."""
    if employer is None:
        return _every_region(actor)
    return actor.covers_region(employer.region_code)


def may_close_account_year(actor: Actor) -> bool:
    """May the actor run the year-end, crediting the year's interest to every individual account?
    System jobs and agency staff of every region: it closes every account at once."""
    return _every_region(actor)


# --- base declarations ---------------------------------------------------------------------------


def may_declare(actor: Actor, employer: Employer | None = None) -> bool:
    """May the actor declare (and see) the contribution bases of this employer's employees? HR of
    the employer and agency staff of its region. Without an employer: for any employer at all
    (the declaration pages)?"""
    if employer is None:
        return actor.kind in EMPLOYER_SIDE
    if actor.kind == "hr":
        return employer.pk in actor.employer_ids
    return actor.covers_region(employer.region_code)


def check_declare(actor: Actor, employer: Employer) -> None:
    """:func:`may_declare`, raising: an employee is told bases are the employer's to declare
    (403), anyone else does not learn that the employer exists (404)."""
    if may_declare(actor, employer):
        return
    if actor.kind == "employee":
        raise Forbidden("forbidden", "bases are declared by the employer", "employer_id")
    raise NotFound("not_found", f"no employer {employer.pk} that you may see", "employer_id")


# --- a person's contributions, account and pension outlook ---------------------------------------


def has_own_record(actor: Actor) -> bool:
    """Does the actor read their own contributions, account and pension outlook? A foreign
    employee signed in as themself (nobody else's)."""
    return actor.kind == "employee" and actor.person_id is not None


def may_see_others_records(actor: Actor) -> bool:
    """May the actor read another person's contributions, account and pension outlook? Agency
    staff, for the people in their scope (``insurance.selectors.person_get``); HR see their
    employees' lines on the employer's bills, not their accounts."""
    return actor.kind in AGENCY_SIDE


def may_close_account(actor: Actor, region_code: str) -> bool:
    """May the actor write the closing entry of an individual account paid out as a lump sum?
    Agency staff of the region that paid it (benefits' reconciliation of the bank's return file),
    and system jobs."""
    return actor.kind in AGENCY_SIDE and actor.covers_region(region_code)
