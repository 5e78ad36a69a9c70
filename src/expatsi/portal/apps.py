from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "expatsi.portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        # Policy tables are validated at start: a malformed file stops the app, naming file + field.
        from expatsi.rules.agreements import agreements, work_injury_classes
        from expatsi.rules.regions import regions

        regions()
        agreements()
        work_injury_classes()

        # The menu is drawn by web (below every app) and decided here, by the pages' policies.
        from expatsi.portal.navigation import menu
        from expatsi.web.navigation import register_menu

        register_menu(menu)
