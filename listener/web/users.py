"""Care-inbox users: roles and Argon2 password hashes. A hash never leaves this module in a log line or a page."""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import UserRow

ROLES = ("agent", "lead", "viewer")
MIN_PASSWORD = 10
NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,200}$")

_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("listener-no-such-user")


class UserError(ValueError):
    pass


def can_act(role: str) -> bool:
    """Agents and leads work tasks; viewers only read."""
    return role in ("agent", "lead")


def can_edit_templates(role: str) -> bool:
    return role == "lead"


def can_edit_silences(role: str) -> bool:
    return role == "lead"


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")


def get_user(session: Session, name: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.name == name))


def add_user(session: Session, name: str, role: str, password: str | None, now: datetime) -> UserRow:
    """`password` None: the user signs in through the reverse proxy only (auth = "header")."""
    if not NAME.match(name):
        raise UserError(f"user name {name!r}: letters, digits and . _ @ + - only")
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if get_user(session, name) is not None:
        raise UserError(f"user {name!r} exists already")
    if password is not None:
        _check_password(password)
    user = UserRow(name=name, role=role, password_hash=_hasher.hash(password) if password is not None else None,
                   disabled=False, created_at=now)
    session.add(user)
    return user


def _existing(session: Session, name: str) -> UserRow:
    user = get_user(session, name)
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def set_password(session: Session, name: str, password: str) -> None:
    _check_password(password)
    _existing(session, name).password_hash = _hasher.hash(password)


def set_disabled(session: Session, name: str, disabled: bool) -> None:
    _existing(session, name).disabled = disabled


def set_role(session: Session, name: str, role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    _existing(session, name).role = role


def assignable_names(session: Session) -> list[str]:
    """Who can take tasks: enabled agents and leads."""
    return list(session.scalars(select(UserRow.name).where(UserRow.disabled.is_(False), UserRow.role.in_(["agent",
                                                                                                         "lead"]))
                                .order_by(UserRow.name)))


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.name)))


def authenticate(session: Session, name: str, password: str) -> UserRow | None:
    """The enabled user with this name and password, else None (same work either way)."""
    return check_password(get_user(session, name), password)


def check_password(user: UserRow | None, password: str) -> UserRow | None:
    """`user` if enabled and the password is theirs, else None; no database work (the sign-in form computes the
    hash after its session has given its connection back)."""
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.password_hash is None or user.disabled:
        return None
    return user
