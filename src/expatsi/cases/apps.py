from django.apps import AppConfig

from expatsi.cases.dispute_messages import NOTICES as DISPUTE_NOTICES
from expatsi.cases.messages import NOTICES
from expatsi.notify.messages import TEMPLATES


class CasesConfig(AppConfig):
    """Compliance and enforcement: checks over the integrated data (permits, entries and exits,
    registrations, bills) that produce findings, and enforcement cases opened from them (order to
    rectify, fines within the legal range, decision, closing).

    A layer above billing: it reads people, cards, registrations and the contributions ledger,
    and writes nothing there.
    """

    name = "expatsi.cases"

    def ready(self) -> None:
        # The inbox messages this context sends, rendered by notify in each reader's language:
        # handed to the lower layer at start instead of notify importing upwards.
        TEMPLATES.update(NOTICES)
        TEMPLATES.update(DISPUTE_NOTICES)
