"""The actor behind a portal page: who the signed-in user is, as the services take it.

Pages build it from the session's user on each request (the REST API's authentication sets its
own, see ``expatsi.access.auth.request_actor``)."""

from __future__ import annotations

from django.http import HttpRequest

from expatsi.access.actors import Actor, actor_for_user, client_ip


def request_actor(request: HttpRequest) -> Actor:
    """The actor of a portal page's request (the public when nobody is signed in)."""
    return actor_for_user(request.user, ip=client_ip(request))
