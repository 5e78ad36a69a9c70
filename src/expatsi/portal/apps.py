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
