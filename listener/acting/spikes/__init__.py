"""Spikes: a brand's mention volume or negative share far above the same hour of the week in previous weeks.

settings (`[[spike]]`) → counts (SQL, GROUP BY over indexed columns) → detect (pure statistics, cooldown and
re-arm) → check (spike rows + outbox alerts, one transaction); the alert in every markup is delivery's
(listener/delivery/spike_message.py).
"""
