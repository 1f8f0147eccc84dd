"""The ``complaints`` pass: a spam complaint suppresses the address (reason
``spam_complaint``) and, like an unsubscribe, withdraws email consent."""

from __future__ import annotations

from cli.cleaning.unsubscribes import UnsubscribesPass


class ComplaintsPass(UnsubscribesPass):
    """Spam complaints suppress the address and withdraw consent."""

    name = "complaints"
    event_type = "spam_complaint"
    reason = "spam_complaint"
    why = "marked an email as spam: suppressed and email consent withdrawn"
