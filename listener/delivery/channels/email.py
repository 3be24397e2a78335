"""Email over SMTP: a plain-text part and an HTML alternative; STARTTLS or implicit TLS and login if configured."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from listener.delivery.channels.base import AlertMessage, DeliveryError, Notice
from listener.delivery.channels.render import render, subject
from listener.durations import Duration
from listener.secrets import get_secret


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="localhost", description="SMTP server host name.")
    port: int = Field(default=25, ge=1, le=65535,
                      description="SMTP server port (25, 587 with STARTTLS, 465 with implicit TLS).")
    sender: str = Field(description="From address of the mail.")
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS (usually port 587).")
    ssl: bool = Field(default=False,
                      description="Implicit TLS from the start (usually port 465); not together with starttls.")
    username: str | None = Field(default=None, description="Log in as this user (with password_secret).")
    password_secret: str | None = Field(default=None,
                                        description="Name of the secret holding the SMTP password (README, "
                                                    "\"Secrets\").")
    timeout: Duration = Field(default=timedelta(seconds=30), description="Connect and send timeout.")

    @model_validator(mode="after")
    def _tls_choice(self) -> SmtpSettings:
        if self.ssl and self.starttls:
            raise ValueError("choose either ssl (implicit TLS) or starttls, not both")
        if self.password_secret and not self.username:
            raise ValueError("password_secret needs a username")
        return self


class EmailChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1,
                      description="The channel's unique name, as rules, spikes and the digest refer to it.")
    kind: Literal["email"] = Field(description="\"email\": alerts as e-mail over SMTP.")
    to: list[str] = Field(min_length=1, description="Recipient addresses.")
    smtp: SmtpSettings = Field(description="The SMTP server that sends the mail.")


def message_id(idempotency_key: str, sender: str) -> str:
    """From the idempotency key alone (no time, pid or random part, unlike make_msgid), so a re-send after a
    crash mid-delivery is the same message to every mail server and client."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "listener.invalid"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


class EmailChannel:
    def __init__(self, settings: EmailChannelSettings):
        self.settings = settings
        self.name = settings.name

    def build(self, message: AlertMessage | Notice) -> EmailMessage:
        smtp = self.settings.smtp
        email = EmailMessage()
        email["Subject"] = message.subject if isinstance(message, Notice) else subject(message)
        email["From"] = smtp.sender
        email["To"] = ", ".join(self.settings.to)
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = message_id(message.idempotency_key, smtp.sender)
        email["X-Listener-Idempotency-Key"] = message.idempotency_key
        if isinstance(message, Notice):
            email.set_content(message.text)
            email.add_alternative(message.html, subtype="html")
        else:
            email.set_content(render("alert.txt", message))
            email.add_alternative(render("alert.html", message), subtype="html")
        return email

    def send(self, message: AlertMessage | Notice) -> None:
        send_email(self.settings.smtp, self.build(message))


def send_email(smtp: SmtpSettings, email: EmailMessage) -> None:
    """One SMTP conversation for one message (also used by the digest, listener/digest/mail.py)."""
    timeout = smtp.timeout.total_seconds()
    try:
        client: smtplib.SMTP
        if smtp.ssl:
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                password = get_secret(smtp.password_secret) if smtp.password_secret else ""
                client.login(smtp.username, password)
            client.send_message(email)
    except (OSError, smtplib.SMTPException, LookupError) as exc:
        # Never include credentials: exc messages from smtplib carry server replies only.
        raise DeliveryError(f"email via {smtp.host}:{smtp.port} failed: {exc}") from exc
