"""The routes of shift work: bulk actions on the queue, the open task's change notice, tasks made by hand."""

from __future__ import annotations

from starlette.routing import BaseRoute

from listener.web.bulk import bulk_routes
from listener.web.live import live_routes
from listener.web.manual import manual_routes


def shift_routes() -> list[BaseRoute]:
    return [*bulk_routes(), *live_routes(), *manual_routes()]
