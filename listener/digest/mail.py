"""The digest as an e-mail: multipart/alternative of a text part and a multipart/related HTML part that
carries every chart as an inline PNG (Content-ID referenced by the HTML as `cid:`)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from listener.delivery.channels.email import SmtpSettings, send_email
from listener.digest.compose import Digest


def build(digest: Digest, sender: str, recipients: list[str], idempotency_key: str | None = None) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = digest.subject
    email["From"] = sender
    email["To"] = ", ".join(recipients)
    email["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or "listener.invalid"
    # A scheduled digest's Message-ID comes from its period, so a re-send after a crash is the same message.
    email["Message-ID"] = message_id(idempotency_key, domain) if idempotency_key else make_msgid(domain=domain)
    if idempotency_key:
        email["X-Listener-Idempotency-Key"] = f"digest:{idempotency_key}"
    email.set_content(digest.text())
    email.add_alternative(digest.html(), subtype="html")
    html_part = list(email.iter_parts())[1]
    assert isinstance(html_part, EmailMessage)
    for chart in digest.charts.values():
        html_part.add_related(chart.png, "image", "png", cid=f"<{chart.cid}>", disposition="inline",
                              filename=chart.cid.split("@")[0] + ".png")
    return email


def message_id(key: str, domain: str) -> str:
    """Stable for a period (`<listener-digest.2026-W48@example.org>`), unlike make_msgid, which adds randomness."""
    return f"<listener-digest.{re.sub(r'[^A-Za-z0-9-]+', '.', key).strip('.')}@{domain}>"


def send(digest: Digest, smtp: SmtpSettings, recipients: list[str], idempotency_key: str | None = None) -> str:
    """Sends the digest; returns its Message-ID. Raises alerts.channels.DeliveryError when SMTP fails."""
    email = build(digest, smtp.sender, recipients, idempotency_key)
    send_email(smtp, email)
    return str(email["Message-ID"])
