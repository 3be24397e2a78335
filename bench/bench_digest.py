"""The weekly digest at scale: one week of --week-mentions mentions in a store of --mentions, on SQLite and on
PostgreSQL, end to end, against the naive way (load every row of the week into Python) in the same run.

    python bench/bench_digest.py                                   # 1,000,000 mentions, 100,000 in the week
    python bench/bench_digest.py --mentions 100000 --week-mentions 10000 --db sqlite
    LISTENER_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python bench/bench_digest.py

Seeding: bulk inserts (SQLAlchemy Core executemany in chunks) of synthetic German/English mentions over the
52 weeks before the digest's week (2026-W48) and --week-mentions in it: three brands (Acme; competitors Globex and
Initech), six sources (two with star ratings), 95 % scored, service categories, reach, 1 % near-duplicates,
care-team labels, follow-up tasks; seven themes (four German, three English: PLANTED) rise in the week, and the
run checks that all of them are in the digest's top ten themes of their language and no stop word is.

Each variant runs in its own process, so its peak RSS is its own (os.wait4):
  * digest — `listener digest --week 2026-W48 --html … --text …`, the real command: figures, charts, HTML, text;
    and `--json`, the figures alone (SQL aggregation, themes on a bounded sample);
  * naive — the two weeks' rows loaded as ORM objects (with brands, scores, labels), the headline figures and
    the themes computed in Python over all of them (less than --json computes: no trend, no care figures);
  * interpreter — an interpreter that runs nothing: the floor the memory budget is measured from.
Seconds are the wall time of the whole process (interpreter start and imports included) and its CPU time (with
--postgres-data, plus what the PostgreSQL server spent meanwhile); memory is the process's own peak RSS (VmHWM)
minus the floor. On a shared machine wall time stretches with the load; CPU time does not.
Figures are checked to agree (mentions, sentiment counts and reach per brand).
The PostgreSQL part needs --postgres-url or $LISTENER_BENCH_POSTGRES_URL (or $LISTENER_TEST_POSTGRES_URL); the
database is emptied first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from listener.store.engine import Store, upgrade  # noqa: E402
from listener.store.models import (  # noqa: E402
    MentionBrand,
    MentionLabel,
    MentionRow,
    ScoreRow,
    SourceRow,
    TaskRow,
)

WEEK = "2026-W48"
WEEK_START = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Monday 00:00 in Berlin
HISTORY = timedelta(weeks=52)
CHUNK = 20_000
SOURCES = [("forum-de", "feed", False), ("forum-en", "discourse", False), ("appstore", "appstore", True),
           ("trustpilot", "trustpilot", True), ("hn", "hackernews", False), ("reddit", "reddit", False)]
CATEGORIES = ["support", "delivery", "billing", "digital", "product", "staff"]
WORDS = {
    "de": ("der die das und ist nicht mit seit heute wieder leider immer noch kein Kundenservice Hotline "
           "Warteschleife Kündigung Rechnung Lieferung Paket Vertrag Filiale Überweisung Update Störung "
           "erreichbar unverschämt schnell freundlich danke super Erfahrung Bestellung Gebühren Kunden-Service "
           "Rückerstattung Termin Beratung Karte Konto Zinsen Sparplan Onlinebanking Überziehung").split(),
    "en": ("the a and is not with since today again still no customer service support hotline hold cancel "
           "refund invoice delivery parcel contract branch transfer update outage reachable rude fast friendly "
           "thanks great experience order fees account login card savings interest overdraft advice").split(),
}
# Themes planted in the week, each in a share of the week's posts of its language: (theme as the digest should
# show it, the words written, share). The digest's themes must have all of them in their top ten, and no stop word.
PLANTED = {
    "de": [("App stürzt", "die neue App stürzt ab", 0.06), ("Kontoführungsgebühren", "die Kontoführungsgebühren "
           "steigen", 0.03), ("Geldautomat kaputt", "der Geldautomat kaputt", 0.02),
           ("Apple Pay", "endlich Apple Pay", 0.02)],
    "en": [("app update", "the app update crashes", 0.06), ("card declined", "my card declined again", 0.03),
           ("cashback bonus", "a cashback bonus please", 0.02)],
}
CONFIG = """[database]
url = "{url}"

[[brand]]
name = "Acme"
terms = ["Acme", "Acme Bank"]

[[brand]]
name = "Globex"
terms = ["Globex"]
competitor = true

[[brand]]
name = "Initech"
terms = ["Initech"]
competitor = true

[digest]
timezone = "Europe/Berlin"
lang = "de"
"""


# ----------------------------------------------------------------------------- seeding
def _rows(first: int, last: int, total: int, week_mentions: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    history = total - week_mentions
    for i in range(first, last):
        in_week = i > history
        if in_week:
            published = WEEK_START + timedelta(seconds=(i - history) / week_mentions * 7 * 86400 - 1)
        else:
            published = WEEK_START - HISTORY + timedelta(seconds=i / max(history, 1) * HISTORY.total_seconds())
        source = rng.randrange(len(SOURCES))
        lang = "de" if rng.random() < 0.55 else "en"
        r = rng.random()
        brands = ["Acme"] if r < 0.7 else ["Globex"] if r < 0.85 else ["Initech"] if r < 0.95 else ["Acme", "Globex"]
        body = " ".join(rng.choices(WORDS[lang], k=rng.randint(10, 24)))
        if in_week:
            body += "".join(". " + words for _, words, share in PLANTED[lang] if rng.random() < share)
        reach = {"likes": rng.randint(0, 50), "replies": rng.randint(0, 10)}
        if rng.random() < 0.05:
            reach["followers"] = rng.randint(100, 100_000)
        out["mentions"].append({
            "id": i, "source_id": source + 1, "source_kind": SOURCES[source][1], "external_id": f"m{i}",
            "url": f"https://example.org/post/{i}", "author": f"user{rng.randint(1, 50_000)}", "title": None,
            "text": f"{' und '.join(brands) if lang == 'de' else ' and '.join(brands)}: {body}",
            "published_at": published, "fetched_at": published + timedelta(minutes=2),
            "rating": float(rng.randint(1, 5)) if SOURCES[source][2] else None, "reach": reach,
            "content_hash": hashlib.sha256(str(i).encode()).hexdigest(),
            "canonical_id": i - 1 if i > 1 and rng.random() < 0.01 else None, "score_attempts": 0})
        out["brands"].extend({"mention_id": i, "brand": b} for b in brands)
        if rng.random() < 0.95:
            s = rng.random()
            sentiment = "negative" if s < 0.35 else "neutral" if s < 0.75 else "positive"
            service = sentiment == "negative" and rng.random() < 0.5
            out["scores"].append({
                "mention_id": i, "model_version": "bench", "language": lang, "language_supported": True,
                "sentiment": sentiment, "p_negative": 0.5, "p_neutral": 0.25, "p_positive": 0.25,
                "categories": rng.sample(CATEGORIES, rng.randint(1, 2)) if service else [],
                "negative_service": service, "urgency": "none", "reasons": [], "scored_at": published})
            if rng.random() < 0.005:
                out["labels"].append({"mention_id": i, "sentiment": "neutral", "service_categories": [],
                                      "labelled_by": "bench", "labelled_at": published})
            if sentiment == "negative" and "Acme" in brands and rng.random() < 0.1:
                created = published + timedelta(minutes=1)
                answered = created + timedelta(minutes=rng.randint(2, 90)) if rng.random() < 0.8 else None
                out["tasks"].append({
                    "mention_id": i, "rule": "negative", "status": "responded" if answered else "open",
                    "priority": "P2", "reasons": [], "created_at": created, "due_at": created + timedelta(minutes=15),
                    "acknowledged_at": answered, "responded_at": answered, "closed_at": None, "note": None})
    return out


def seed(url: str, total: int, week_mentions: int) -> float:
    started = time.perf_counter()
    store = Store(url)
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(store)
    rng = random.Random(48)
    tables = {"mentions": MentionRow, "brands": MentionBrand, "scores": ScoreRow, "labels": MentionLabel,
              "tasks": TaskRow}
    with store.engine.begin() as conn:
        conn.execute(insert(SourceRow), [{"id": i + 1, "name": n, "kind": k, "cursor": {}}
                                         for i, (n, k, _) in enumerate(SOURCES)])
    for first in range(1, total + 1, CHUNK):
        rows = _rows(first, min(first + CHUNK, total + 1), total, week_mentions, rng)
        with store.engine.begin() as conn:
            for key, model in tables.items():
                if rows[key]:
                    conn.execute(insert(model), rows[key])
        print(f"\r  seeded {min(first + CHUNK - 1, total):,} / {total:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    store.dispose()
    return time.perf_counter() - started


def stored(url: str) -> int:
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM mentions")).scalar_one())
    except Exception:  # noqa: BLE001 - no database or no table yet: seed it
        return 0
    finally:
        store.dispose()


# ----------------------------------------------------------------------------- the naive baseline (a child)
def naive(url: str) -> dict[str, Any]:
    """Every row of the week (and the week before, for the changes) as ORM objects, figures in Python."""
    from sqlalchemy import select

    from listener.digest.themes import Tokeniser, count
    from listener.text import words

    start, end = WEEK_START - timedelta(weeks=1), WEEK_START + timedelta(weeks=1)
    store = Store(url)
    with store.read() as session:
        mentions = list(session.scalars(select(MentionRow).where(MentionRow.published_at >= start,
                                                                 MentionRow.published_at < end)))
        figures: dict[str, Counter[str]] = defaultdict(Counter)
        texts = []
        for m in mentions:
            current = m.published_at is not None and m.published_at >= WEEK_START
            sentiment = (m.label.sentiment if m.label else m.score.sentiment if m.score else None) or "unscored"
            for brand in m.brand_names:
                key = f"{brand}:{'now' if current else 'before'}"
                figures[key]["mentions"] += 1
                figures[key][sentiment] += 1
                figures[key]["potential_reach"] += max([0, *(m.reach.get(k, 0) for k in ("followers", "views",
                                                                                          "reads"))])
                figures[key]["engagement"] += sum(m.reach.get(k, 0) for k in ("likes", "reposts", "quotes",
                                                                              "replies", "score", "votes"))
            if current and "Acme" in m.brand_names and m.score and m.score.language in ("de", "en"):
                texts.append((m.id, m.title, m.text, m.score.language, 0, sentiment, m.published_at))
        themes = count(texts, Tokeniser(frozenset(words("Acme Bank Globex Initech"))), keep_examples=True)
    store.dispose()
    return {"rows": len(mentions), "acme_now": dict(figures["Acme:now"]),
            "themes_counted": sum(t.documents for t in themes.by_language.values())}


# ----------------------------------------------------------------------------- measuring
# Runs a module or script with argv and writes the process's own peak RSS (VmHWM, which exec resets, unlike
# ru_maxrss) to $BENCH_HWM_FILE at exit: the forked copy of this big seeding process must not count.
WRAPPER = """import atexit, os, resource, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(os.environ["BENCH_HWM_FILE"], "w") as out:
        out.write(f"{kb} {usage.ru_utime + usage.ru_stime}")
atexit.register(peak)
target, sys.argv = sys.argv[1], sys.argv[1:]
if target.endswith(".py"):
    sys.path.insert(0, os.path.dirname(target))  # as `python script.py` would
    runpy.run_path(target, run_name="__main__")
elif target != "-":
    runpy.run_module(target, run_name="__main__", alter_sys=True)
"""


def run_child(target: str, *args: str) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, stdout) of one child process running `target` (a module, a
    script or '-')."""
    with tempfile.NamedTemporaryFile(suffix=".hwm") as hwm:
        env = dict(os.environ, BENCH_HWM_FILE=hwm.name)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", WRAPPER, target, *args], capture_output=True, text=True,
                              env=env, check=False)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"{target} {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        kb, cpu = Path(hwm.name).read_text().split()
        return seconds, float(cpu), int(kb) / 1024, proc.stdout


def server_cpu(data_dir: Path | None) -> float:
    """CPU seconds the local PostgreSQL server has used (its postmaster plus every reaped backend), 0 without
    --postgres-data: a backend's work is the server's, not the client's."""
    if data_dir is None:
        return 0.0
    pid = (data_dir / "postmaster.pid").read_text().split()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


THEMES: dict[str, tuple[int, int, int]] = {}  # database → (planted themes found, planted, stop words shown)


def planted_themes(themes: dict[str, Any]) -> tuple[list[str], int, list[str]]:
    """(planted themes among the top ten of their language, how many were planted, stop words among all themes)."""
    from listener.digest.noise import never_themes
    from listener.text import words

    found = [term for lang, planted in PLANTED.items() for term, _, _ in planted  # as shown, or in a phrase
             if any(set(words(term)) <= set(words(t["term"])) for t in themes[lang][:10])]
    stop = [t["term"] for lang in PLANTED for t in themes[lang]
            if any(w in never_themes(lang) for w in words(t["term"]))]
    return found, sum(len(p) for p in PLANTED.values()), stop


def measure(name: str, url: str, workdir: Path, data_dir: Path | None = None,
            ) -> list[tuple[str, str, float, float, float]]:
    config = workdir / f"{name}.toml"
    config.write_text(CONFIG.format(url=url))
    html, text_out, figures = workdir / f"{name}.html", workdir / f"{name}.txt", workdir / f"{name}.json"
    _, _, floor, _ = run_child("-")
    server = server_cpu(data_dir)
    seconds, cpu, peak, _ = run_child("listener", "-c", str(config), "digest", "--week", WEEK, "--html", str(html),
                                      "--text", str(text_out))
    cpu, server = cpu + server_cpu(data_dir) - server, server_cpu(data_dir)
    json_seconds, json_cpu, json_peak, out = run_child("listener", "-c", str(config), "digest", "--week", WEEK,
                                                       "--json")
    json_cpu, server = json_cpu + server_cpu(data_dir) - server, server_cpu(data_dir)
    figures.write_text(out)
    naive_seconds, naive_cpu, naive_peak, naive_out = run_child(__file__, "--child-naive", url)
    naive_cpu += server_cpu(data_dir) - server
    ours, theirs = json.loads(out)["brands"][0], json.loads(naive_out)["acme_now"]
    agree = (ours["headline"]["mentions"]["value"] == theirs["mentions"]
             and ours["headline"]["potential_reach"]["value"] == theirs["potential_reach"]
             and ours["headline"]["engagement"]["value"] == theirs["engagement"]
             and all(ours["sentiment"][s] == theirs.get(s, 0) for s in ("negative", "neutral", "positive", "unscored")))
    print(f"  {name}: digest written to {html} and {text_out}; figures agree with the naive count: {agree}")
    if not agree:
        raise SystemExit(f"figures differ: {ours['headline']} vs {theirs}")
    found, planted, stop = planted_themes(ours["themes"])
    print(f"  {name}: planted themes in the top ten: {len(found)} of {planted}; stop words among the themes: "
          f"{stop or 'none'}")
    THEMES[name] = (len(found), planted, len(stop))
    return [(name, "digest: figures, charts, HTML and text", seconds, cpu, peak - floor),
            (name, "digest --json: the figures alone", json_seconds, json_cpu, json_peak - floor),
            (name, "naive: all rows of the week into Python", naive_seconds, naive_cpu, naive_peak - floor),
            (name, "interpreter alone (peak RSS, absolute)", 0.0, 0.0, floor)]


def main() -> None:
    from suite import add_summary_option, write_summary

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1_000_000, help="mentions in the store")
    parser.add_argument("--week-mentions", type=int, default=None, help="of which in the digest's week "
                        "(default: a tenth)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("LISTENER_BENCH_POSTGRES_URL")
                        or os.environ.get("LISTENER_TEST_POSTGRES_URL"))
    parser.add_argument("--postgres-data", type=Path, default=None, help="the local PostgreSQL server's data "
                        "directory: its CPU seconds are added to the client's")
    parser.add_argument("--dir", type=Path, default=None, help="keep the SQLite file and outputs here")
    parser.add_argument("--reuse", action="store_true", help="keep a database that already holds --mentions "
                        "mentions (from an earlier run with the same options) instead of seeding it again")
    parser.add_argument("--child-naive", default=None, help=argparse.SUPPRESS)
    add_summary_option(parser)
    args = parser.parse_args()
    if args.child_naive:
        print(json.dumps(naive(args.child_naive)))
        return
    week_mentions = args.week_mentions or args.mentions // 10
    if not 0 < week_mentions <= args.mentions or args.mentions > 5_000_000:
        parser.error("need 0 < --week-mentions <= --mentions <= 5,000,000")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench-digest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    targets = []
    if args.db in ("sqlite", "both"):
        db = workdir / "bench.db"
        for suffix in ("", "-wal", "-shm") if not args.reuse else ():
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        targets.append(("sqlite", f"sqlite:///{db}"))
    if args.db in ("postgresql", "both"):
        if args.postgres_url:
            targets.append(("postgresql", args.postgres_url))
        elif args.db == "postgresql":
            parser.error("PostgreSQL needs --postgres-url or $LISTENER_BENCH_POSTGRES_URL")
        else:
            print("no PostgreSQL URL (--postgres-url, $LISTENER_BENCH_POSTGRES_URL): SQLite only", file=sys.stderr)
    results = []
    for name, url in targets:
        if args.reuse and stored(url) == args.mentions:
            print(f"{name}: reusing the {args.mentions:,} mentions already stored", file=sys.stderr)
        else:
            print(f"{name}: seeding {args.mentions:,} mentions, {week_mentions:,} in {WEEK} …", file=sys.stderr)
            seconds = seed(url, args.mentions, week_mentions)
            print(f"  seeded in {seconds:.0f} s", file=sys.stderr)
        results.extend(measure(name, url, workdir, args.postgres_data if name == "postgresql" else None))
    print(f"\n{args.mentions:,} mentions, {week_mentions:,} in {WEEK} (wall time of the whole process; "
          "memory: its peak RSS above a bare interpreter's, which is in the last row)")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs — wall seconds stretch when the machine is shared; CPU seconds do not")
    print(f"{'database':<11} {'variant':<44} {'wall s':>8} {'CPU s':>7} {'MB':>7}")
    for name, variant, seconds, cpu, mb in results:
        print(f"{name:<11} {variant:<44} {seconds:>8.2f} {cpu:>7.2f} {mb:>7.0f}")
    write_summary(args.summary, summary(results, args.mentions, week_mentions))


def summary(results: list[tuple[str, str, float, float, float]], total: int, week: int) -> list[Any]:
    """The figures bench/run.py tabulates (bench/suite.py)."""
    from suite import Figure

    figures = []
    for name in dict.fromkeys(r[0] for r in results):
        digest, _json, naive, _floor = [r for r in results if r[0] == name]
        where = f"{name}, {week:,} of {total:,}"
        found, planted, stop = THEMES.get(name, (0, 0, 0))
        figures += [
            Figure("digest", f"planted themes in the top ten ({where})", f"{found} of {planted}", "", f"{planted}",
                   found == planted),
            Figure("digest", f"stop words among the themes ({where})", f"{stop}", "", "0", stop == 0),
            Figure("digest", f"end to end, wall s ({where})", f"{digest[2]:.1f}", f"{naive[2]:.1f} (naive)", "≤ 10",
                   digest[2] <= 10),
            Figure("digest", f"end to end, CPU s ({where})", f"{digest[3]:.1f}", f"{naive[3]:.1f} (naive)"),
            Figure("digest", f"peak RSS above the interpreter, MB ({where})", f"{digest[4]:.0f}",
                   f"{naive[4]:.0f} (naive)", "≤ 300", digest[4] <= 300),
        ]
    return figures


if __name__ == "__main__":
    main()
