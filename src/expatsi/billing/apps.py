from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Monthly contributions: declarations, billing runs, bills, payments, individual accounts.

    Kept apart from ``insurance`` (who is registered) because money has its own life: runs,
    adjustments and payments that never edit what was issued.
    """

    name = "expatsi.billing"
