from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make demo` (``manage.py demo_setup``); it sits above every context it fills."""

    name = "expatsi.demo"
