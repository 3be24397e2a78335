"""What a benchmark hands to bench/run.py: one row per measured figure, written as JSON to `--summary FILE`."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    benchmark: str
    measure: str
    value: str  # formatted as the benchmark prints it
    baseline: str = ""  # what the same run measured to compare with ("" = none)
    target: str = ""  # the goal, as in bench/README.md ("" = none)
    met: bool | None = None  # None: no target


def add_summary_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--summary", type=Path, help="also write the figures as JSON to this file (bench/run.py)")


def write_summary(path: Path | None, figures: list[Figure]) -> None:
    if path is not None:
        path.write_text(json.dumps([asdict(f) for f in figures], ensure_ascii=False, indent=1) + "\n")


def read_summary(path: Path) -> list[Figure]:
    return [Figure(**row) for row in json.loads(path.read_text())]
