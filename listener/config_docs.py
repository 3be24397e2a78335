"""docs/config.md, the configuration reference, generated from the settings models:

    python -m listener.config_docs > docs/config.md

It walks the root model (listener.config.Settings) recursively: every key with its type, default and description
(the fields' `Field(description=...)`), section by section; `[[source]]` lists the keys every source has and then
each registered source kind's own, `[[channel]]` each channel kind's. tests/test_config_docs.py fails when the
file is out of date. config/listener.example.toml stays the annotated example.
"""

from __future__ import annotations

import enum
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt, MinLen
from pydantic import BaseModel, HttpUrl
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from listener.config import Settings
from listener.durations import format_duration
from listener.replies.platforms import with_reply_keys
from listener.sources.kit import SourceSettings, load_builtin_sources, registry

COMMAND = "python -m listener.config_docs > docs/config.md"


@dataclass(frozen=True)
class Section:
    """One table of keys: `path` as written in the file (e.g. `rule.when`), `many` for an array of tables."""

    path: str
    model: type[BaseModel]
    many: bool
    description: str
    title: str = ""  # after the path: a source or channel kind
    skip: frozenset[str] = frozenset()  # keys documented in another section (a source kind's common keys)
    keys: bool = True  # False: only the heading and description (a list of tables whose kinds follow)


def sections() -> Iterator[Section]:
    """Every table of the config file, in the order of the root model's fields."""
    for name, field in Settings.model_fields.items():
        yield from _sections(name, field)


def _sections(path: str, field: FieldInfo) -> Iterator[Section]:
    many, models = _models(field.annotation)
    description = field.description or ""
    if models == [SourceSettings]:
        yield Section(path, SourceSettings, many, description)
        load_builtin_sources()
        common = frozenset(SourceSettings.model_fields)
        for kind, source in sorted(registry.items()):
            own: type[BaseModel] = with_reply_keys(source.settings_model, kind)  # and its reply keys (listener/replies)
            yield Section(path, own, many, own.model_fields["kind"].description or "", f'kind = "{kind}"', common)
            yield from _nested(path, own)
        return
    if len(models) > 1:
        yield Section(path, models[0], many, description, keys=False)
    for model in models:
        title = ""
        if len(models) > 1:  # a tagged union: one table per kind
            kind = typing.get_args(model.model_fields["kind"].annotation)[0]
            title = f'kind = "{kind}"'
            description = model.model_fields["kind"].description or ""
        yield Section(path, model, many, description, title)
        yield from _nested(path, model)


def _nested(path: str, model: type[BaseModel]) -> Iterator[Section]:
    for name, field in model.model_fields.items():
        if _models(field.annotation)[1]:
            yield from _sections(f"{path}.{name}", field)


def _models(annotation: Any) -> tuple[bool, list[type[BaseModel]]]:
    """(a list of them?, the models a field holds)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return False, [annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return True, _models(args[0])[1]
    found = [m for arg in args for m in _models(arg)[1]]
    return False, found


def type_name(field: FieldInfo) -> str:
    text = _type(field.annotation, field.metadata)
    limits = [_limit(m) for m in field.metadata]
    return ", ".join([text] + [limit for limit in limits if limit])


def _type(annotation: Any, metadata: list[Any]) -> str:
    validators = {getattr(getattr(m, "func", None), "__name__", "") for m in metadata}
    if "parse_duration" in validators:
        return "duration"
    if "known_zone" in validators:
        return "time zone (IANA name)"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(args[0], list(args[1:]))
    if origin is Literal:
        return " | ".join(_toml(a) for a in args)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):  # StrEnums: their stored values
        return " | ".join(_toml(member.value) for member in annotation)
    if origin is list:
        many, models = _models(annotation)
        item = _type(args[0], [])
        return "list of tables" if models else f"list of {item}s" if item.isalpha() else f"list of ({item})"
    if origin is dict:
        return f"table of {_type(args[1], [])}s"
    if type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return _type(rest[0], metadata) if len(rest) == 1 else "table"
    if args:
        return "table"
    simple = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "path", HttpUrl: "URL",
              date: "date", timedelta: "duration"}
    if annotation in simple:
        return simple[annotation]
    return "table" if isinstance(annotation, type) and issubclass(annotation, BaseModel) else str(annotation)


def _limit(meta: Any) -> str:
    if isinstance(meta, Ge):
        return f"≥ {meta.ge}"
    if isinstance(meta, Gt):
        return f"> {meta.gt}"
    if isinstance(meta, Le):
        return f"≤ {meta.le}"
    if isinstance(meta, Lt):
        return f"< {meta.lt}"
    if isinstance(meta, MinLen) and meta.min_length:
        return "not empty" if meta.min_length == 1 else f"at least {meta.min_length} long"
    return ""


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "**required**"
    else:
        value = field.default
    if value is None:
        return "unset"
    return f"`{_toml(value)}`".replace("|", "\\|")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return f'"{format_duration(value)}"'
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _cell(text: str) -> str:
    """Markdown table cell: `|` escaped everywhere, and outside `code` spans the characters Markdown would read
    as emphasis or HTML."""
    parts = text.replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("*", "\\*").replace("_", "\\_").replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts).replace("|", "\\|")


def render_section(section: Section) -> list[str]:
    header = f"[[{section.path}]]" if section.many else f"[{section.path}]"
    depth = "###" if section.title or "." in section.path else "##"
    title = f"{header} {section.title}" if section.title else header
    lines = [f"{depth} `{title}`", ""]
    if section.description:
        lines += [_cell(section.description).replace("\\|", "|"), ""]
    if not section.keys:
        return lines
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    for name, field in section.model.model_fields.items():
        if name in section.skip or (section.title and name == "kind"):
            continue
        many, models = _models(field.annotation)
        default = default_text(field)
        if models and not many:
            default = "unset; see below" if default == "unset" else "see below"
        lines.append(f"| `{name}` | {_cell(type_name(field))} | {default} | {_cell(field.description or '')} |")
    return lines + [""]


def render() -> str:
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated from the settings models by listener/config_docs.py; do not edit. Regenerate with:",
        f"     {COMMAND} -->",
        "",
        "Every key of the config file with its type, default and description. The annotated example is",
        "[config/listener.example.toml](../config/listener.example.toml); `listener -c FILE config check` validates a",
        "file, and a wrong key stops the daemon at start, naming it. Durations are written like `\"30s\"`,",
        "`\"5m\"`, `\"1h30m\"`, `\"2d\"`. A `*_secret` key names a secret that listener reads from",
        "`$CREDENTIALS_DIRECTORY/<name>` (systemd) or from the environment variable `LISTENER_<NAME>`; the secret",
        "itself never goes in the file (README, \"Secrets\").",
        "",
    ]
    for section in sections():
        lines += render_section(section)
    return "\n".join(lines).rstrip("\n") + "\n"


def documented_keys() -> set[str]:
    """Dotted key paths the reference documents (`rule.when.sentiment`; list indices left out)."""
    return {f"{s.path}.{name}" for s in sections() for name in s.model.model_fields}


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
