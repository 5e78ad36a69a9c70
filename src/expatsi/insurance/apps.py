from django.apps import AppConfig


class InsuranceConfig(AppConfig):
    name = "expatsi.insurance"
