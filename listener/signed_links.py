"""Signed, expiring links that identify one task: the acknowledge link of an alert (listener/web) and a
customer's survey link (listener/surveys). Below both, so neither imports the other."""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from listener.clock import Clock

ACK_SALT = "listener.ack-link"


class InvalidAckLink(Exception):
    def __init__(self, expired: bool):
        self.expired = expired
        super().__init__("the acknowledge link has expired" if expired else "the acknowledge link is not valid")


class AckLinks:
    """`/ack/<token>`: a task id signed with a timestamp on the injected clock, valid for `ack_link_valid`."""

    def __init__(self, secret: str, clock: Clock, valid: timedelta, salt: str = ACK_SALT):
        class ClockSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock.now().timestamp())

        self.valid = valid
        self.serializer = URLSafeTimedSerializer(secret, salt=salt, signer=ClockSigner)  # a salt per link kind

    def token(self, task_id: int) -> str:
        return str(self.serializer.dumps(task_id))

    def task_id(self, token: str) -> int:
        try:
            value = self.serializer.loads(token, max_age=int(self.valid.total_seconds()))
        except SignatureExpired:
            raise InvalidAckLink(expired=True) from None
        except BadSignature:
            raise InvalidAckLink(expired=False) from None
        if not isinstance(value, int):
            raise InvalidAckLink(expired=False)
        return value
