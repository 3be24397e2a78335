"""Persistence: the mention store, its engine setup and migrations."""

from listener.store.engine import Store, upgrade

__all__ = ["Store", "upgrade"]
