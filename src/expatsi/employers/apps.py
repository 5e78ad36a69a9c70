from django.apps import AppConfig


class EmployersConfig(AppConfig):
    name = "expatsi.employers"

    def ready(self) -> None:
        # Django's idiom: models and services import only once the registry is ready.
        from expatsi.access.auth import register_token_lookup
        from expatsi.employers.services import api_token_authenticate

        register_token_lookup(api_token_authenticate)
