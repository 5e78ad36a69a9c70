"""The site's menu. Which pages a signed-in actor is offered is the business of the apps that own
those pages and their permission policies, all above this layer: the portal hands its menu in at
start (``PortalConfig.ready``), as employers hand access their token lookup. ``web`` only draws it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from expatsi.access.actors import Actor

# (URL name, label) pairs, in menu order; a name that does not resolve is left out.
Menu = Callable[[Actor], Sequence[tuple[str, str]]]

_menu: Menu | None = None


def register_menu(menu: Menu) -> None:
    global _menu
    _menu = menu


def menu_for(actor: Actor) -> Sequence[tuple[str, str]]:
    """The menu of a signed-in actor; nothing until an app has registered one."""
    return _menu(actor) if _menu is not None else ()
