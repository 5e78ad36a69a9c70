from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "expatsi.access"

    def ready(self) -> None:
        from expatsi.access import checks  # noqa: F401 - registers the deploy checks
