"""What the scorer needs to know about the embedded model without importing torch.

The fine-tuned artefacts' files, their meta and hash, and the model's input convention (text preparation and
head + tail truncation). The int8 runtimes (ONNX Runtime, OpenVINO) score with these alone; training and the
torch fallback add listener.nlp.model on top.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"
DELTA_FILE = "encoder_delta.safetensors"
HEADS_FILE = "heads.safetensors"
META_FILE = "meta.json"
PREFIX = "query: "  # E5 input convention
_URL = re.compile(r"(https?://|www\.)\S+")


def prepare_text(text: str) -> str:
    """The exact input the model is trained and run on: E5 prefix, URLs folded, whitespace collapsed."""
    return PREFIX + " ".join(_URL.sub("http", text).split())


def head_tail(ids: list[int], max_length: int) -> list[int]:
    """Truncate a tokenised text (with <s> … </s>) to `max_length` keeping its start and its end.

    Long documents (news, forum posts) carry the topic at the start and the verdict often at the end.
    """
    if len(ids) <= max_length:
        return ids
    head = (max_length * 3) // 4
    return ids[:head] + ids[len(ids) - (max_length - head) :]


def read_meta(art_dir: Path) -> dict[str, Any]:
    """meta.json of the artefacts; its "layers" is how many transformer layers they were trained with
    (absent or None: all of the base model's)."""
    return dict(json.loads((art_dir / META_FILE).read_text()))


def artifacts_present(art_dir: Path) -> bool:
    return all((art_dir / f).is_file() for f in (DELTA_FILE, HEADS_FILE, META_FILE))


def artifacts_hash(art_dir: Path, files: tuple[str, ...] = (DELTA_FILE, HEADS_FILE, META_FILE)) -> str:
    """Short sha256 of the artefacts (all three: the model version; weights only: the ONNX cache key)."""
    digest = hashlib.sha256()
    for f in files:
        digest.update((art_dir / f).read_bytes())
    return digest.hexdigest()[:12]
