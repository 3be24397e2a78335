"""`POST /hooks/<channel>` on the care inbox: a helpdesk says one of its tickets changed.

The request is checked the way that helpdesk signs it (delivery/helpdesk/*.py `verify_hook`): a wrong or missing
signature or token is 401, a signed timestamp outside `webhook_max_age` is 401, a delivery id already handled is
409. Then listener reads the named tickets from the helpdesk's API and applies what it says (status.py), so the
request itself can only make listener look — its body never decides a task's state. This is the one POST of the
care inbox without a session and a CSRF token: the signature takes their place.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from listener.clock import Clock
from listener.delivery.helpdesk.channels import helpdesk_channel
from listener.delivery.helpdesk.handoff import HelpdeskChannel
from listener.delivery.helpdesk.model import BadWebhook, HelpdeskError, ReplayedWebhook
from listener.delivery.helpdesk.status import read_back, seen
from listener.store.engine import Store

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000


def handle(channel: HelpdeskChannel, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, object]]:
    """(HTTP status, JSON answer) for one webhook request; `headers` with lower-case names."""
    now = channel.clock.now()
    try:
        call = channel.driver.verify_hook(headers, body, now)
        if call.delivery_id is not None:
            with channel.store.read() as session:
                if seen(session, channel.name, call.delivery_id):
                    raise ReplayedWebhook(f"delivery {call.delivery_id!r} was handled already")
        if not call.ticket_ids:
            return 200, {"ok": True, "tickets": 0}
        report = read_back(channel, call.ticket_ids, incremental=False, delivery_id=call.delivery_id)
    except BadWebhook as exc:
        log.warning("event=helpdesk_webhook_refused channel=%s reason=%r", channel.name, str(exc))
        return 401, {"error": "not a valid webhook request for this channel"}
    except ReplayedWebhook as exc:
        log.warning("event=helpdesk_webhook_replayed channel=%s reason=%r", channel.name, str(exc))
        return 409, {"error": "this delivery was handled already"}
    except HelpdeskError as exc:  # nothing was recorded: the helpdesk's retry is welcome
        log.warning("event=helpdesk_webhook_failed channel=%s error=%r", channel.name, str(exc))
        return 503, {"error": "could not read the ticket from the helpdesk; retry later"}
    if report.error:
        return 503, {"error": "could not read the ticket from the helpdesk; retry later"}
    return 200, {"ok": True, "tickets": report.checked, "responded": report.responded, "resolved": report.resolved}


def _answer(store: Store, clock: Clock, settings: object, name: str, headers: dict[str, str],
            body: bytes) -> tuple[int, dict[str, object]]:
    channel = helpdesk_channel(settings, name, store, clock)
    if channel is None or not channel.settings.webhook_secret:
        return 404, {"error": "no helpdesk channel with a webhook by that name"}
    return handle(channel, headers, body)


async def hook_endpoint(request: Request) -> Response:
    web = request.app.state.web
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return JSONResponse({"error": "too large"}, status_code=413)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "too large"}, status_code=413)
    headers = {key.lower(): value for key, value in request.headers.items()}
    status, answer = await run_in_threadpool(_answer, web.store, web.clock, web.settings,
                                             str(request.path_params["channel"]), headers, body)
    return JSONResponse(answer, status_code=status, headers={"Retry-After": "60"} if status == 503 else None)
