from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    """What the insurance pays out: for now, a foreigner's departure — keep the individual account
    or terminate the relationship and receive the balance in one lump sum (Order No. 16 Art. 5),
    paid abroad through a bank payment run.

    A layer above billing: it reads the account ledger and the bills, and writes nothing there.
    """

    name = "expatsi.benefits"
