"""Act and deliver: rules turn triaged mentions into follow-up tasks and outbox rows; the outbox is delivered."""
