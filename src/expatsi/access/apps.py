from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "expatsi.access"

    def ready(self) -> None:
        from django.contrib import admin

        from expatsi.access.throttle import ThrottledAdminAuthenticationForm

        # The backend throttles the admin's sign-in already; this form also says so.
        admin.site.login_form = ThrottledAdminAuthenticationForm

        from expatsi.access import checks  # noqa: F401 - registers the deploy checks
