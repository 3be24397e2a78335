"""Deliver: the outbox worker sends the rows acting wrote (listener/acting/) by e-mail, chat or webhook, with retries,
claims and idempotency keys; the channels and the rendering of each message live here."""
