"""Signed Standard Webhooks for every grant change: the outbox, the delivery worker, the developer's log."""
