"""Act: rules turn triaged mentions into follow-up tasks with deadlines from business hours, and write the outbox
rows that announce them (delivered by listener/delivery/); escalation, grouping, silences and spikes add or hold
back rows of their own; the care team moves tasks along (activity)."""
