"""Alembic environment: the engine is handed over by listener.store.engine.upgrade()."""

from __future__ import annotations

from alembic import context

from listener.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # running the alembic CLI directly (for `alembic revision --autogenerate`)
    from listener.store.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///listener.db")

with engine.execution_options(listener_write=True).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch mode for ALTER
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
