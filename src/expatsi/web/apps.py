from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The layout, form base classes, error pages and shared template tags of every page."""

    name = "expatsi.web"
    verbose_name = _("Web")
