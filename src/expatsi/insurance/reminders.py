"""The daily reminder job: registration deadlines, certificates of coverage, residence permits.

Who is reminded: the active HR users of the employer concerned — for a registration, its employer;
for a certificate or a residence permit, every employer that employs the person on ``today`` (or
has hired them for later). Each reminder goes to the inbox and by e-mail, in the user's language.

Idempotency (dedupe keys; ``notify_user`` never delivers one key to one user twice):

Every window comes from ``[reminders.*]`` in ``national/deadlines.toml`` (none is written here),
counted back from the clock's due date — the last day on time — so a reminder always comes before
the legal deadline (a residence permit must be extended at least 30 days before it expires: its
reminders come 30 and 7 days before that day, i.e. 60 and 37 days before expiry).

* ``registration_due_soon:<registration id>:d<days>`` — once per reminder day of the plan;
* ``registration_overdue:<registration id>:late-w<weeks late>`` — on the first day late, then every
  ``overdue_every_days`` for as long as the registration stays unaccepted;
* ``certificate_expiring:<certificate id>:<valid_to>:d<days>``,
  ``residence_permit_expiring:<document id>:<valid_to>:d<days>`` and
  ``residence_permit_extension_late:<document id>:<valid_to>:late-w<weeks>`` (after the last day
  to apply, until expiry) — a corrected or extended expiry date is a new reminder. A document
  already followed by a newer one of the same kind (renewed) is not reminded.

Running the job twice on one day therefore sends nothing twice, and a day the job missed is caught
up the next day. Every step is one set-based query (plus one for recipients); the keys already
delivered are read in bulk so that a repeated run writes nothing.

One bad recipient or item never stops the others: a delivery that raises is logged and listed in
``failures`` (and retried on the next run, since nothing was stored for it); an e-mail that could
not be sent is logged and listed too (its inbox entry stands and is not sent again). The job is
meant to run outside a transaction (``expatsi jobs run-daily``), where each e-mail goes out as soon
as its inbox entry is committed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from expatsi.employers.models import HrMembership
from expatsi.insurance.models import (
    CoverageCertificate,
    Employment,
    Registration,
    RegistrationStatus,
)
from expatsi.notify.models import Notification
from expatsi.notify.services import notify_user
from expatsi.people.models import Document, DocumentKind
from expatsi.rules.deadlines import (
    ReminderPlan,
    deadline,
    earliest_reminder_day,
    reminder_plan,
    reminder_stage,
)

log = logging.getLogger(__name__)

KINDS = (
    "registration_due_soon",
    "registration_overdue",
    "certificate_expiring",
    "residence_permit_expiring",
    "residence_permit_extension_late",
)
CHUNK = 1000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: str
    employer_id: int
    params: dict[str, Any]
    dedupe_key: str


def _window_days(plan: ReminderPlan) -> int:
    """An upper bound on how far before the event the first reminder can come: a SQL prefilter
    only; each row's exact reminder day is then computed from its clock."""
    c = plan.clock
    span = {"calendar_days": c.amount, "working_days": 2 * c.amount + 30, "months": 31 * c.amount}
    return span[c.unit] + earliest_reminder_day(plan) + 1


def _registration_reminders(today: date) -> Iterator[Reminder]:
    plan = reminder_plan("registration")
    live_employment = Q(employment__end_date__isnull=True) | Q(employment__end_date__gte=today)
    regs = (
        Registration.objects.filter(
            status=RegistrationStatus.SUBMITTED,
            deadline__lte=today + timedelta(days=earliest_reminder_day(plan)),
        )
        .filter(live_employment)
        .select_related("person")
        .only("id", "deadline", "employer", "person", "person__family_name", "person__given_names")
        .order_by("deadline", "id")
    )
    for reg in regs.iterator(chunk_size=CHUNK):
        stage = reminder_stage(plan, reg.deadline, today)
        if stage is None:
            continue
        params: dict[str, Any] = {
            "person": reg.person.full_name,
            "deadline": reg.deadline.isoformat(),
            "registration_id": reg.pk,
        }
        if stage.overdue:
            params["days"] = -stage.days_left
            key = f"registration_overdue:{reg.pk}:{stage.tag}"
            yield Reminder("registration_overdue", reg.employer_id, params, key)
        else:
            params["days_left"] = stage.days_left
            key = f"registration_due_soon:{reg.pk}:{stage.tag}"
            yield Reminder("registration_due_soon", reg.employer_id, params, key)


def _employers_of(person_ids: Iterable[int], today: date) -> dict[int, list[int]]:
    """The employers employing each person on ``today`` or later: one query."""
    found: dict[int, list[int]] = defaultdict(list)
    ids = list(set(person_ids))
    for start in range(0, len(ids), CHUNK):
        rows = (
            Employment.objects.filter(person_id__in=ids[start : start + CHUNK])
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .values_list("person_id", "employer_id")
            .distinct()
        )
        for person_id, employer_id in rows:
            if employer_id not in found[person_id]:
                found[person_id].append(employer_id)
    return found


def _certificate_reminders(today: date) -> Iterator[Reminder]:
    renewed = CoverageCertificate.objects.filter(
        person_id=OuterRef("person_id"),
        country=OuterRef("country"),
        valid_to__gt=OuterRef("valid_to"),
    )
    plan = reminder_plan("certificate")
    certs = list(
        CoverageCertificate.objects.filter(
            valid_to__gte=today, valid_to__lte=today + timedelta(days=_window_days(plan))
        )
        .exclude(Exists(renewed))
        .select_related("person")
        .only(
            "id",
            "number",
            "country",
            "valid_to",
            "person",
            "person__family_name",
            "person__given_names",
        )
        .order_by("valid_to", "id")
    )
    employers = _employers_of((c.person_id for c in certs), today)
    for cert in certs:
        due = deadline(plan.clock.kind, cert.valid_to).due
        stage = reminder_stage(plan, due, today, until=cert.valid_to)
        if stage is None:
            continue
        params = {
            "person": cert.person.full_name,
            "number": cert.number,
            "country": cert.country,
            "valid_to": cert.valid_to.isoformat(),
        }
        key = f"certificate_expiring:{cert.pk}:{cert.valid_to.isoformat()}:{stage.tag}"
        for employer_id in employers.get(cert.person_id, []):
            yield Reminder("certificate_expiring", employer_id, params, key)


def _residence_permit_reminders(today: date) -> Iterator[Reminder]:
    renewed = Document.objects.filter(
        person_id=OuterRef("person_id"), kind=DocumentKind.RESIDENCE_PERMIT
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=OuterRef("valid_to")))
    plan = reminder_plan("residence_permit")
    docs = list(
        Document.objects.filter(
            kind=DocumentKind.RESIDENCE_PERMIT,
            valid_to__gte=today,
            valid_to__lte=today + timedelta(days=_window_days(plan)),
        )
        .exclude(Exists(renewed))
        .select_related("person")
        .only("id", "number", "valid_to", "person", "person__family_name", "person__given_names")
        .order_by("valid_to", "id")
    )
    employers = _employers_of((d.person_id for d in docs), today)
    for doc in docs:
        assert doc.valid_to is not None  # filtered above
        # The reminder counts from the last day to APPLY (Exit-Entry Law Art. 32: at least 30
        # days before expiry), not from the expiry itself.
        due = deadline(plan.clock.kind, doc.valid_to).due
        stage = reminder_stage(plan, due, today, until=doc.valid_to)
        if stage is None:
            continue
        params: dict[str, Any] = {
            "person": doc.person.full_name,
            "number": doc.number,
            "valid_to": doc.valid_to.isoformat(),
            "deadline": due.isoformat(),
        }
        kind = "residence_permit_extension_late" if stage.overdue else "residence_permit_expiring"
        if stage.overdue:
            params["days"] = -stage.days_left
        else:
            params["days_left"] = stage.days_left
        key = f"{kind}:{doc.pk}:{doc.valid_to.isoformat()}:{stage.tag}"
        for employer_id in employers.get(doc.person_id, []):
            yield Reminder(kind, employer_id, params, key)


def _hr_users(employer_ids: Iterable[int]) -> dict[int, list[User]]:
    users: dict[int, list[User]] = defaultdict(list)
    ids = list(set(employer_ids))
    for start in range(0, len(ids), CHUNK):
        memberships = (
            HrMembership.objects.filter(
                employer_id__in=ids[start : start + CHUNK], active=True, user__is_active=True
            )
            .select_related("user", "user__person")
            .order_by("employer_id", "user_id")
        )
        for m in memberships:
            users[m.employer_id].append(m.user)
    return users


def _delivered(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        rows = Notification.objects.filter(dedupe_key__in=keys[start : start + CHUNK])
        found.update(key for key in rows.values_list("dedupe_key", flat=True) if key)
    return found


def run_daily(today: date, *, progress: Progress | None = None) -> dict[str, Any]:
    """Send today's reminders; return counts. Safe to run any number of times a day."""
    reminders: list[Reminder] = [
        *_registration_reminders(today),
        *_certificate_reminders(today),
        *_residence_permit_reminders(today),
    ]
    recipients = _hr_users(r.employer_id for r in reminders)
    pairs = [(r, user) for r in reminders for user in recipients.get(r.employer_id, [])]
    already = _delivered([f"{r.dedupe_key}:u{user.pk}" for r, user in pairs])

    found = dict.fromkeys(KINDS, 0)
    sent = dict.fromkeys(KINDS, 0)
    for r in reminders:
        found[r.kind] += 1
    no_recipient = sum(1 for r in reminders if not recipients.get(r.employer_id))
    skipped = 0
    sent_ids: list[int] = []
    failures: list[dict[str, Any]] = []
    total = len(pairs)
    for i, (r, user) in enumerate(pairs, 1):
        if f"{r.dedupe_key}:u{user.pk}" in already:
            skipped += 1
        else:
            try:
                note = notify_user(user=user, kind=r.kind, params=r.params, dedupe_key=r.dedupe_key)
            except Exception as exc:
                log.exception("reminder %s to user %s failed", r.dedupe_key, user.pk)
                failures.append(_failure("notify", r, user.pk, exc))
                note = None
            else:
                if note is None:  # delivered meanwhile by a concurrent run
                    skipped += 1
                else:
                    sent[r.kind] += 1
                    sent_ids.append(note.pk)
        if progress is not None and (i % 500 == 0 or i == total):
            progress("notifications", i, total)
    emailed = 0
    # Inside a caller's transaction the e-mails wait for its commit: pending, not failed.
    pending = transaction.get_connection().in_atomic_block
    by_key = {f"{r.dedupe_key}:u{user.pk}": r for r, user in pairs}
    for start in range(0, len(sent_ids), CHUNK):
        rows = Notification.objects.filter(pk__in=sent_ids[start : start + CHUNK]).values_list(
            "dedupe_key", "user_id", "user__email", "emailed_at"
        )
        for key, user_id, address, emailed_at in rows:
            if emailed_at is not None:
                emailed += 1
            elif address and not pending and key in by_key:  # e-mail failed (logged)
                failures.append(_failure("e-mail", by_key[key], user_id, None))
    return {
        "today": today.isoformat(),
        "found": found,
        "sent": sent,
        "sent_total": sum(sent.values()),
        "emailed": emailed,
        "already_sent": skipped,
        "without_hr_user": no_recipient,
        "failed": len(failures),
        "failures": failures,
    }


def _failure(step: str, r: Reminder, user_id: int, exc: Exception | None) -> dict[str, Any]:
    return {
        "step": step,
        "kind": r.kind,
        "employer_id": r.employer_id,
        "user_id": user_id,
        "key": r.dedupe_key,
        "error": type(exc).__name__ if exc else "e-mail not sent (see the log)",
    }
