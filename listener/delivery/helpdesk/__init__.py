"""Helpdesk hand-off: Zendesk, Freshdesk, Zammad and Chatwoot as channels (docs/helpdesk.md).

settings (the `[[channel]]` kinds) → handoff (one ticket per task, later alerts as posts, crash-safe) →
status (the ticket's answer and closing flow back to the task: a periodic read-back, jobs.py, and signed webhooks,
webhooks.py). One module per helpdesk speaks its REST API (zendesk.py, freshdesk.py, zammad.py, chatwoot.py).
"""
