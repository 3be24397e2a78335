"""The short-text set: one-line posts under 60 characters, where the model used to be least reliable.

Two sources, each split into a train and a test part by a hash of the row's id (stable across runs):
- the short rows of the default training files in ../shared/eval (read from there, never copied: licences);
  15 % of them are test rows, which training leaves out;
- `data/short_texts.tsv`, German and English lines written for listener (columns id, lang, sentiment,
  negative_service, text); 40 % are test rows, and the four lines the retraining issue quoted are always test rows.

`listener nlp eval` reports sentiment accuracy and false flags on the test part, per source, separately from the
test files. No torch here: the eval command reads it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from listener.nlp.categories import service_targets
from listener.nlp.train.evaluate import default_eval_dir, find_taxonomy, read_tsv, sentiment_metrics

SHORT_CHARS = 60
WRITTEN_FILE = Path(__file__).with_name("data") / "short_texts.tsv"
# training files whose short rows join the set (and lose their test share from training)
SHORT_ROW_FILES = ("sb10k_train", "airline_train", "uci_train", "semeval_train", "potts_train", "mobasa_train",
                   "germeval2017_train")
FILE_TEST_SHARE = 0.15
WRITTEN_TEST_SHARE = 0.40
# the examples of praise paged as complaints: kept out of training so the test says whether it is fixed
ALWAYS_TEST = frozenset({"Acme ist toll", "Die Beratung war spitze", "meh", "Toller Service von Acme heute"})


def in_slice(key: str, share: float) -> bool:
    """A stable pseudo-random `share` of keys (sha256 of the key)."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def is_short(text: str) -> bool:
    return len(text.strip()) < SHORT_CHARS


def in_short_test(stem: str, row: dict[str, str]) -> bool:
    """Is this row of training file `stem` in the short-text test part (and so never trained on)?"""
    if stem == WRITTEN_FILE.stem:
        return row["text"].strip() in ALWAYS_TEST or in_slice(f"short:{row['id']}", WRITTEN_TEST_SHARE)
    return (stem in SHORT_ROW_FILES and is_short(row["text"])
            and in_slice(f"short:{stem}:{row.get('id') or row['text']}", FILE_TEST_SHARE))


def test_rows(eval_dir: Path | None = None) -> dict[str, list[dict[str, str]]]:
    """The test part by source: `written` and each training file that has short rows (files that are missing are
    left out, so the set also works without ../shared)."""
    eval_dir = eval_dir or default_eval_dir()
    parts = {"written": [r for r in read_tsv(WRITTEN_FILE) if in_short_test(WRITTEN_FILE.stem, r)]}
    for stem in SHORT_ROW_FILES:
        path = eval_dir / f"{stem}.tsv"
        if path.is_file():
            parts[stem] = [r for r in read_tsv(path) if in_short_test(stem, r)]
    return parts


def gold_flag(row: dict[str, str], taxonomy: dict[str, str]) -> bool | None:
    """Is the row a negative service experience (None: the row does not say)?"""
    targets = service_targets(row, taxonomy)
    return None if targets is None else targets[0]


def evaluate_short(scorer: Any, eval_dir: Path | None = None) -> dict[str, Any]:
    """Sentiment accuracy and false flags on the test part, per source and in all: `false_flags` counts rows that
    are no negative service experience but were flagged, `praise_flagged` the positive rows among them."""
    parts = test_rows(eval_dir)
    taxonomy = find_taxonomy((eval_dir or default_eval_dir()) / "taxonomy.tsv")
    texts = [r["text"] for rows in parts.values() for r in rows]
    scores = iter(scorer.score(texts))
    result: dict[str, Any] = {"file": "short_texts[test]", "parts": {}}
    everything: list[tuple[dict[str, str], Any]] = []
    for name, rows in parts.items():
        scored = [(r, next(scores)) for r in rows]
        everything += scored
        result["parts"][name] = _short_figures(scored, taxonomy)
    result.update(_short_figures(everything, taxonomy))
    return result


def _short_figures(scored: list[tuple[dict[str, str], Any]], taxonomy: dict[str, str]) -> dict[str, Any]:
    m = sentiment_metrics([r["sentiment"] for r, _ in scored], [s.sentiment for _, s in scored])
    clean = [(r, s) for r, s in scored if gold_flag(r, taxonomy) is False]
    praise = [(r, s) for r, s in clean if r["sentiment"] == "positive"]
    complaints = [(r, s) for r, s in scored if gold_flag(r, taxonomy)]
    return {"n": m["n"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
            "not_service": len(clean), "false_flags": sum(s.negative_service for _, s in clean),
            "praise": len(praise), "praise_flagged": sum(s.negative_service for _, s in praise),
            "complaints": len(complaints), "complaints_flagged": sum(s.negative_service for _, s in complaints),
            "flagged_praise_texts": [r["text"] for r, s in praise if s.negative_service][:10]}
