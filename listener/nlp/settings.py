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

    model: str = Field(default="embedded",
                       description="\"embedded\" (the bundled multilingual model), a local model directory, or a "
                                   "Hugging Face model id.")
    artifacts: Path | None = Field(default=None,
                                   description="With model = \"embedded\": a directory of fine-tuned artefacts of your "
                                               "own (`listener nlp train --out DIR`) instead of the shipped ones "
                                               "(whose heads are non-commercial).")
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="Maps another model's own labels (e.g. \"LABEL_0\", \"1 star\", "
                                               "\"NEG\") to negative, neutral or positive.")
    batch_size: int = Field(default=32, ge=1, le=1024,
                            description="Texts per model run; int8 scales are per run, so 1 makes a score independent "
                                        "of its batch (about 7–10 % slower).")
    max_length: int = Field(default=256, ge=8, le=4096,
                            description="Tokens per text; a longer text keeps its first three quarters and last "
                                        "quarter.")
    threads: int | None = Field(default=None, ge=1, le=256,
                                description="Inference threads (ONNX Runtime, OpenVINO or torch); unset: all cores, or "
                                            "torch's default for torch.")
    quantize: bool = Field(default=True,
                           description="Run the model in int8 where it allows (faster, smaller; measured in the model "
                                       "card); false: torch fp32.")
    runtime: Literal["auto", "openvino", "onnxruntime"] = Field(
        default="auto",
        description="int8 runtime of the embedded model: \"auto\" = OpenVINO's static int8 when openvino is installed "
                    "and the artefacts have activation ranges, else ONNX Runtime's dynamic int8; or name one.")
    languages: list[str] = Field(default_factory=lambda: ["de", "en"],
                                 description="Languages (ISO 639-1) the detector tells apart with high accuracy; "
                                             "German and English always.")
    screen_languages: bool = Field(default=True,
                                   description="Also recognise about 35 other common languages (about 30 MB more), so "
                                               "a French or Dutch mention is marked unsupported instead of being "
                                               "scored as German or English.")
