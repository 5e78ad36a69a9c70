"""A link to record a dispute about a bill, a line of a bill, a registration or a card decision,
for the pages of the apps below (billing, insurance, cards) that show one.

Those apps know nothing of disputes (they sit lower in the layers); their templates load this
library by name, and the question "may this reader open a dispute between this employer and this
person?" stays in cases/permissions.py. Only the parties get the link (the employee and the
employer's HR); agency staff record disputes from the disputes page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from expatsi.cases import permissions
from expatsi.cases.models import DisputeSubject
from expatsi.web.actors import request_actor

register = template.Library()


@register.simple_tag(takes_context=True)
def dispute_url(
    context: dict[str, Any], subject_kind: str, subject_id: int, employer_id: int, person_id: int
) -> str:
    """The dispute form filled in with the subject and both parties, or "" when the reader is
    not a party who may open one."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return ""
    if subject_kind not in DisputeSubject.values:
        return ""
    # Once a request: a bill page asks for each of its lines.
    actor = getattr(request, "_dispute_link_actor", None)
    if actor is None:
        actor = request_actor(request)
        request._dispute_link_actor = actor
    if actor.kind not in ("employee", "hr"):
        return ""
    if not permissions.is_party_or_staff(
        actor, region_code="", employer_id=employer_id, person_id=person_id
    ):
        return ""
    query = urlencode(
        {
            "subject_kind": subject_kind,
            "subject_id": subject_id,
            "employer": employer_id,
            "person": person_id,
        }
    )
    return f"{reverse('cases:dispute_new')}?{query}"
