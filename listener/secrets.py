"""Secrets come from systemd credentials or the environment, never from the config file.

A config key such as `password_secret = "smtp-password"` names a secret. It is looked up as
`$CREDENTIALS_DIRECTORY/smtp-password` (systemd `LoadCredential=`) and then as the environment
variable `LISTENER_SMTP_PASSWORD` (upper-cased, `-` and `.` become `_`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path


class MissingSecret(LookupError):
    pass


def env_name(name: str) -> str:
    return "LISTENER_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def get_secret(name: str) -> str:
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        path = Path(cred_dir) / name
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    value = os.environ.get(env_name(name))
    if value is not None:
        return value
    raise MissingSecret(
        f"secret {name!r} not found: set ${env_name(name)} or provide it as a systemd credential "
        f"(LoadCredential={name}:/path/to/file)"
    )
