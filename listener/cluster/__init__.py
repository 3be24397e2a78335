"""Several nodes on one PostgreSQL database: a procrastinate job queue instead of the in-process scheduler."""
