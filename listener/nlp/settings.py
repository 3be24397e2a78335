"""`[nlp]` settings: which model scores mentions and how inference runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def default_cache_dir() -> Path:
    """Where converted model weights go unless `[daemon] cache_dir` says otherwise: $LISTENER_CACHE_DIR,
    systemd's $CACHE_DIRECTORY (first entry), else ~/.cache/listener."""
    for var in ("LISTENER_CACHE_DIR", "CACHE_DIRECTORY"):
        if os.environ.get(var):
            return Path(os.environ[var].split(":")[0])
    return Path.home() / ".cache" / "listener"


class NlpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "embedded" (the bundled multilingual model), a local model directory, or a Hugging Face model id.
    model: str = "embedded"
    # With model = "embedded": fine-tuned artefacts of your own (`listener nlp train --out DIR`) instead of the
    # shipped ones, e.g. trained on your labelled mentions (the shipped heads are non-commercial).
    artifacts: Path | None = None
    # Maps the model's own labels (e.g. "LABEL_0", "1 star", "NEG") to negative|neutral|positive.
    labels: dict[str, str] = Field(default_factory=dict)
    batch_size: int = Field(default=32, ge=1, le=1024)
    max_length: int = Field(default=256, ge=8, le=4096)
    # inference threads (ONNX Runtime or torch); None = all cores for ONNX Runtime, torch's default for torch
    threads: int | None = Field(default=None, ge=1, le=256)
    quantize: bool = True  # int8 dynamic quantisation of Linear layers where the model allows it
    # int8 runtime of the embedded model: "auto" = OpenVINO's static int8 when openvino is installed and the
    # artefacts have activation ranges (faster), else ONNX Runtime's dynamic int8; or name one of them
    runtime: Literal["auto", "openvino", "onnxruntime"] = "auto"
    # languages the detector tells apart with high accuracy (ISO 639-1); German and English always
    languages: list[str] = Field(default_factory=lambda: ["de", "en"])
    # also recognise ~35 other common languages (lingua's low-accuracy mode, ~30 MB), so a French or Dutch
    # mention is marked unsupported instead of being scored as German or English
    screen_languages: bool = True
