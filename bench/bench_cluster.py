"""Scoring throughput of 2 cluster nodes against 1, on one PostgreSQL database.

    python bench/bench_cluster.py [--postgres URL] [--mentions 600] [--model embedded|tiny|DIR] [--rounds 2]

Each round, for 1 node and then 2 nodes: a fresh database with `--mentions` unscored mentions (60–70 words each,
German and English), then N node processes that each load the scorer, wait at a common start line and run the
claiming scorer (listener/pipeline.py: score_pending with claim=True; FOR UPDATE SKIP LOCKED batches, scores, triage and
tasks in one transaction per batch) until nothing is left. Throughput = mentions / wall time from the start line
to the last node done — model loading is not in it. The 1-node run of the same round is the baseline; printed:
each round and the median ratio. Every round is bounded (`--timeout`, default 150 s per run).

`--postgres` defaults to $LISTENER_TEST_POSTGRES_URL (any server you may create databases on).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS_DE = ("die hotline der bank legt nach einer stunde warteschleife einfach auf und niemand ruft zurück "
            "meine überweisung hängt seit tagen die app zeigt nur einen fehler an").split()
WORDS_EN = ("the support line kept me on hold for an hour then hung up and nobody called back my transfer "
            "has been stuck for days and the app only shows an error").split()


def fill(db_url: str, mentions: int) -> None:
    from listener.store.engine import Store, upgrade
    from listener.store.models import MentionBrand, MentionRow, SourceRow

    store = Store(db_url)
    upgrade(store)
    now = datetime.now(UTC)
    with store.write() as session:
        source = SourceRow(name="bench", kind="feed", cursor={})
        session.add(source)
        session.flush()
        for i in range(mentions):
            words = WORDS_DE if i % 2 else WORDS_EN
            text = "Acme " + " ".join(words[(i + k) % len(words)] for k in range(64)) + f" #{i}"
            session.add(MentionRow(source_id=source.id, source_kind="feed", external_id=f"m{i}", text=text,
                                   fetched_at=now, published_at=now, content_hash=f"{i:064x}",
                                   brands=[MentionBrand(brand="Acme")]))
    store.dispose()


def node(db_url: str, model: str, start_file: str) -> None:
    """One node: load, wait for the start line, score until nothing is left; print a JSON line."""
    from listener.app import App
    from listener.config import parse_settings

    settings = parse_settings({"database": {"url": db_url}, "nlp": {"model": model}, "daemon": {"score_batch": 32}})
    app = App(settings)
    app.scorer.score(["warm up"])
    print("ready", flush=True)
    while not Path(start_file).exists():
        time.sleep(0.01)
    began = time.monotonic()
    report = app.score(claim=True)
    print(json.dumps({"scored": report.scored, "seconds": time.monotonic() - began}), flush=True)
    app.close()


def run_nodes(server_url: str, nodes: int, mentions: int, model: str, timeout: float) -> dict[str, float]:
    from kit import fresh_database

    with fresh_database(server_url) as db_url, tempfile.TemporaryDirectory() as tmp:
        fill(db_url, mentions)
        start = Path(tmp) / "start"
        procs = [subprocess.Popen([sys.executable, __file__, "--node", db_url, model, str(start)], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True) for _ in range(nodes)]
        try:
            for p in procs:
                assert p.stdout is not None
                line = p.stdout.readline()
                if line.strip() != "ready":
                    raise RuntimeError(f"a node failed to start: {line!r}")
            began = time.monotonic()
            start.touch()
            results = []
            for p in procs:
                out, _ = p.communicate(timeout=max(1.0, timeout - (time.monotonic() - began)))
                results.append(json.loads(out.strip().splitlines()[-1]))
            wall = time.monotonic() - began
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    scored = sum(r["scored"] for r in results)
    if scored != mentions:
        raise RuntimeError(f"{nodes} nodes scored {scored} of {mentions} mentions")
    return {"nodes": nodes, "wall": wall, "per_s": mentions / wall,
            "shares": [r["scored"] for r in results]}  # type: ignore[dict-item]


def tiny_model(path: Path) -> str:
    from kit import tiny_model as build

    return str(build(path))


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--node":
        node(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    from suite import Figure, add_summary_option, write_summary

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("LISTENER_TEST_POSTGRES_URL"))
    parser.add_argument("--mentions", type=int, default=600)
    parser.add_argument("--model", default="embedded", help='"embedded", "tiny" (bench/kit.py) or a directory')
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=150.0)
    add_summary_option(parser)
    args = parser.parse_args()
    if not args.postgres:
        parser.error("--postgres URL (or $LISTENER_TEST_POSTGRES_URL) is needed")
    with tempfile.TemporaryDirectory() as tmp:
        model = tiny_model(Path(tmp) / "tiny") if args.model == "tiny" else args.model
        print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} mentions={args.mentions} model={args.model}")
        ratios, singles = [], []
        for round_no in range(1, args.rounds + 1):
            one = run_nodes(args.postgres, 1, args.mentions, model, args.timeout)
            two = run_nodes(args.postgres, 2, args.mentions, model, args.timeout)
            ratios.append(two["per_s"] / one["per_s"])
            singles.append(one["per_s"])
            print(f"round {round_no}: 1 node {one['per_s']:.1f}/s ({one['wall']:.1f} s) | 2 nodes "
                  f"{two['per_s']:.1f}/s ({two['wall']:.1f} s, shares {two['shares']}) | ratio {ratios[-1]:.2f}")
        print(f"2 nodes / 1 node: median {statistics.median(ratios):.2f} (range {min(ratios):.2f}–{max(ratios):.2f})"
              f", load now {os.getloadavg()[0]:.1f}")
    write_summary(args.summary, [Figure("cluster", f"2 nodes / 1 node, scoring throughput ({args.model} model)",
                                        f"{statistics.median(ratios):.2f}",
                                        f"1 node {statistics.median(singles):.1f}/s")])


if __name__ == "__main__":
    main()
