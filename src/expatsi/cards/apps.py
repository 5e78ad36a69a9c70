from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "expatsi.cards"

    def ready(self) -> None:
        # A hire records the card on file: insurance, a layer below, asks the cards app through
        # the lookup handed in here (Django's idiom: services import only once models are ready).
        from expatsi.cards.card_document import card_document_for_hire
        from expatsi.insurance.cardlink import register_card_lookup

        register_card_lookup(card_document_for_hire)
