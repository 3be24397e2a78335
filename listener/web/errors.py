"""The care inbox's own page for requests no route answers (404, 405, a malformed form), instead of Starlette's
plain text; an unexpected error is logged and answered with a page that shows no traceback."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from listener.web.app import Web, refuse

log = logging.getLogger(__name__)
MESSAGES = {404: "There is no such page.", 405: "This page does not answer that kind of request.",
            400: "The request could not be read."}


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    web: Web = request.app.state.web
    message = MESSAGES.get(status, "The request could not be read.")
    response = await run_in_threadpool(refuse, web, request, None, status, message)
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("event=web_error method=%s path=%s error=%r", request.method, request.url.path, exc, exc_info=exc)
    return HTMLResponse("<!doctype html><title>Error · listener</title><main><h1>Something went wrong</h1>"
                        "<p role=\"alert\">The care inbox could not answer this request; it is in the log."
                        " <a href=\"/queue\">Back to the queue</a></p></main>", status_code=500)


EXCEPTION_HANDLERS = {HTTPException: http_error, Exception: server_error}
