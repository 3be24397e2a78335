"""The whole content of a database as text, to grep for data that must be gone."""

from __future__ import annotations

import sqlite3

from sqlalchemy import inspect, text

from listener.store.engine import Store


def dump(store: Store) -> str:
    if store.engine.dialect.name == "sqlite":
        database = store.engine.url.database
        assert database
        conn = sqlite3.connect(database)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    lines = []
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            lines.extend(str(row[0]) for row in conn.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" t')))
    return "\n".join(lines)
