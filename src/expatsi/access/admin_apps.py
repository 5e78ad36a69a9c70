"""``django.contrib.admin`` with :class:`~expatsi.access.admin_site.VerifiedAdminSite` as
``admin.site``: listed in INSTALLED_APPS in its place (a module of its own, because Django picks
the one AppConfig of an app's ``apps`` module)."""

from django.contrib.admin.apps import AdminConfig


class VerifiedAdminConfig(AdminConfig):
    default_site = "expatsi.access.admin_site.VerifiedAdminSite"
