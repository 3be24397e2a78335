"""What the Google APIs (YouTube Data, Android Publisher) share: their error body,
`{"error": {"code", "message", "status", "errors": [{"reason", "domain", "message"}]}}`.

Not a platform module (the leading underscore keeps the registry from taking it for a source kind).
"""

from __future__ import annotations

from typing import Any

import httpx


def google_error(response: httpx.Response) -> tuple[set[str], str]:
    """The `errors[].reason` values (and the gRPC-style `status`, e.g. PERMISSION_DENIED) and the message."""
    try:
        body: Any = response.json()
    except ValueError:
        return set(), response.text.strip()[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return set(), response.text.strip()[:300]
    reasons = {str(e["reason"]) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")}
    if isinstance(error.get("status"), str):
        reasons.add(error["status"])
    message = error.get("message")
    return reasons, message if isinstance(message, str) else ""


def describe(response: httpx.Response, platform: str) -> str:
    """"youtube: HTTP 403 commentsDisabled: The video … has disabled comments." for the agent."""
    reasons, message = google_error(response)
    named = ",".join(sorted(r for r in reasons if not r.isupper()))  # the reasons, not the gRPC status
    return f"{platform}: HTTP {response.status_code}{' ' + named if named else ''}: {message}".rstrip(": ")
