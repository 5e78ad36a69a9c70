from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "expatsi.access"

    def ready(self) -> None:
        # The admin's site (and its throttled sign-in form) is VerifiedAdminSite: admin_apps.py.
        from expatsi.access import checks  # noqa: F401 - registers the deploy checks
