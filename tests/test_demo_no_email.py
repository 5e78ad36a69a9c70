"""Loading the demo sends no e-mail (issue #13, found by the browser test of ``make demo``).

The demo's users have example addresses; their notifications stay in the inbox. E-mails go out
after commit, so the "no e-mail" setting must still hold when the load commits: it did not, and
``make demo`` printed some 250 e-mails (3,400 lines) to the terminal with the development mail
backend, above the logins it prints — with an SMTP server configured they would have been sent.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from expatsi.demo.data import demo_load
from expatsi.notify.models import Notification

# A real commit: under a test's own transaction the after-commit sends would never run.
pytestmark = pytest.mark.django_db(transaction=True)


def test_loading_the_demo_fills_inboxes_and_sends_no_email() -> None:
    mail.outbox = []
    demo_load(password=settings.EXPATSI_DEMO_PASSWORD, people=5)
    assert Notification.objects.exclude(user__email="").exists()  # there was mail to send
    assert mail.outbox == []
