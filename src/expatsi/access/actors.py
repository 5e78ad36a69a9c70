"""Who is acting: every service takes an explicit ``actor`` and checks it on every read and write."""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass, field
from typing import Any, Literal

ActorKind = Literal["agency", "hr", "employee", "system", "public"]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    user_id: int | None
    label: str
    regions: frozenset[str] | None = None  # agency: None = every region
    employer_ids: frozenset[int] = field(default_factory=frozenset)  # hr
    person_id: int | None = None  # employee
    ip: str = ""
    via: str = "portal"
    # Agency administrators (superusers and users with the admin flag among agency staff): they
    # register employers and hand out access in the portal (employers.permissions).
    admin: bool = False

    # The words the permission policies (each app's permissions.py) are written in; the
    # questions themselves ("may this actor decide this application?") live in those policies.

    @property
    def is_agency(self) -> bool:
        return self.kind in ("agency", "system")

    @property
    def covers_every_region(self) -> bool:
        """System jobs, and agency staff not limited to some regions."""
        return self.kind == "system" or (self.kind == "agency" and self.regions is None)

    def covers_region(self, region_code: str) -> bool:
        return self.kind == "system" or (
            self.kind == "agency" and (self.regions is None or region_code in self.regions)
        )

    def is_hr_of(self, employer_id: int) -> bool:
        """HR of this employer: one of its signed-in HR users, or its API token."""
        return self.kind == "hr" and employer_id in self.employer_ids

    def is_person(self, person_id: int) -> bool:
        """The foreign employee ``person_id`` themself."""
        return (
            self.kind == "employee" and self.person_id is not None and self.person_id == person_id
        )


SYSTEM = Actor(kind="system", user_id=None, label="system", via="job")
PUBLIC = Actor(kind="public", user_id=None, label="public")


def operator_actor(command: str) -> Actor:
    """The system acting for an operator at the shell (``expatsi billing run`` …): labelled with
    the command, the operating-system user and the host, so the audit trail says who ran it."""
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no user name in a bare container
        who = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return Actor(
        kind="system",
        user_id=None,
        label=f"expatsi {command} ({who}@{socket.gethostname()})"[:200],
        via="cli",
    )


def actor_for_user(user: Any, *, ip: str = "", via: str = "portal") -> Actor:
    """Build the actor for a logged-in user: agency > HR > employee; others are the public."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(kind="public", user_id=None, label="anonymous", ip=ip, via=via)
    label = user.get_username()
    staff = getattr(user, "agency_staff", None) if hasattr(user, "agency_staff") else None
    if user.is_superuser or staff is not None:
        regions = staff.region_codes() if staff is not None else frozenset()
        admin = bool(user.is_superuser or user.is_staff)
        return Actor("agency", user.pk, label, regions=regions or None, ip=ip, via=via, admin=admin)
    employer_ids = frozenset(
        user.hr_memberships.filter(active=True).values_list("employer_id", flat=True)
    )
    if employer_ids:
        return Actor("hr", user.pk, label, employer_ids=employer_ids, ip=ip, via=via)
    person = getattr(user, "person", None) if hasattr(user, "person") else None
    if person is not None:
        return Actor("employee", user.pk, label, person_id=person.pk, ip=ip, via=via)
    return Actor(kind="public", user_id=user.pk, label=label, ip=ip, via=via)


def actor_for_token(token: Any, *, ip: str = "") -> Actor:
    """An employer's API token acts as HR of that one employer."""
    return Actor(
        "hr",
        None,
        f"token {token.prefix} ({token.name})",
        employer_ids=frozenset({token.employer_id}),
        ip=ip,
        via="token",
    )


def client_ip(request: Any) -> str:
    """The client's address as the audit trail records it (see :mod:`expatsi.access.clientip`)."""
    from expatsi.access.clientip import client_address

    return client_address(request)[:45]
