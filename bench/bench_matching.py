"""Brand matching throughput and near-duplicate lookup latency.

    python bench/bench_matching.py                       # 50 brand queries over 100k mentions, dedup on 100k
    python bench/bench_matching.py --mentions 20000 --store 1000000

Matching: 50 brands (queries with AND/OR/NOT, phrases, wildcards, excludes; competitors among them) over
synthetic German/English mentions, in one thread (one core), against two baselines measured in the same run:
  * reference — normalise once, then walk every brand's query tree (`listener.matching.evaluate`);
  * compiled, all brands — the compiled closures, but every brand evaluated for every mention;
  * BrandMatcher — compiled closures for the few brands whose trigger words occur (what the pipeline uses).
All three must find the same brands for every mention (checked).

Dedup: a SQLite store with --store mentions and their LSH keys, then `canonical_for` for new mentions
(half of them edited copies of stored ones): milliseconds per lookup, and how many copies were found.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from listener.dedup import BANDS, band_keys, canonical_for, content_hash, dedup_words  # noqa: E402
from listener.domain import Mention  # noqa: E402
from listener.matching import BrandMatcher, BrandSettings, brand_node, compile_brand, evaluate  # noqa: E402
from listener.store.engine import Store, upgrade  # noqa: E402
from listener.store.models import MentionRow, SourceRow  # noqa: E402
from listener.text import words  # noqa: E402

STEMS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell", "Cyberdyne",
         "Soylent", "Wonka", "Gringotts", "Oscorp", "Nakatomi", "Monarch", "Pied Piper", "Aperture", "Massive",
         "Dunder", "Krusty", "Duff", "Sirius", "Virtucon", "Zorg"]
GERMAN = ["Müller", "Größe", "Bäckerei", "Straßenbahn", "Öko", "Fährhaus", "Süßwaren", "Kühlhaus", "Brühl",
          "Löwen", "Gärtner", "Schön", "Grün", "Weiß", "Köhler"]
FILLER_DE = ("der die das und ist nicht mit seit heute wieder leider immer noch kein keine Kundenservice Hotline "
             "Warteschleife Kündigung gekündigt Rechnung Lieferung Paket Vertrag Filiale Überweisung stürzt ab "
             "Update Störung erreichbar unverschämt schnell freundlich danke super Erfahrung Bestellung "
             "Rückerstattung Bahnhof Zug Verspätung Straße Größe Tür Schlüssel").split()
FILLER_EN = ("the a and is not with since today again still no customer service support hotline hold cancel "
             "cancelled refund invoice delivery parcel contract branch transfer crashes update outage reachable "
             "rude fast friendly thanks great experience order train delay door key app account login").split()
REFERENCE_SAMPLE = 2_000
DECOR = ["https://t.co/Xa81kd", "#fail", "@support", "😡", "👍", "…", "!!!", "(edit: typo)", "–", "„so“"]


def brand_configs() -> list[BrandSettings]:
    names = [f"{a} {b}" if i % 3 == 0 else f"{a}{b.lower()}"
             for i, (a, b) in enumerate(zip((STEMS + GERMAN) * 2, GERMAN + STEMS + GERMAN + STEMS, strict=False))]
    brands: list[BrandSettings] = []
    for i, name in enumerate(dict.fromkeys(names)):
        if len(brands) == 50:
            break
        first = name.split()[0]
        shape = i % 5
        if shape == 0:
            query = f'"{name}" OR {first.lower()}app'
        elif shape == 1:
            query = f'{first} AND (kündig* OR cancel* OR storno OR "customer service")'
        elif shape == 2:
            query = f'("{name}" OR {first}bank) NOT (job* OR stellenangebot)'
        elif shape == 3:
            query = f'{first}* AND (hotline OR support OR warteschleife)'
        else:
            query = f'{first} -"{first} Road"'
        brands.append(BrandSettings(name=name, query=query, terms=[name] if shape % 2 else [],
                                    exclude=["gewinnspiel", "giveaway*"] if shape == 4 else [],
                                    competitor=i % 4 != 0))
    return brands


def synthetic_mentions(n: int, brands: list[BrandSettings], seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    names = [b.name for b in brands]
    texts = []
    for _ in range(n):
        filler = FILLER_DE if rng.random() < 0.5 else FILLER_EN
        size = rng.randint(8, 60)
        tokens = [rng.choice(filler) for _ in range(size)]
        for _ in range(rng.choice([0, 0, 1, 1, 2])):  # most mentions name a brand, some two, some none
            name = rng.choice(names)
            variant = rng.choice([name, name.upper(), name.replace(" ", "-"), name.split()[0] + "-Hotline",
                                  name.split()[0].lower() + "app"])
            tokens.insert(rng.randrange(len(tokens) + 1), variant)
        for _ in range(rng.randint(0, 3)):
            tokens.insert(rng.randrange(len(tokens) + 1), rng.choice(DECOR))
        text = " ".join(tokens)
        texts.append(text[0].upper() + text[1:] + rng.choice([".", "!", "?", " 😡", ""]))
    return texts


def timed(label: str, fn: Callable[[str], list[str]], texts: list[str]) -> tuple[str, float, float, list[list[str]]]:
    """(label, CPU seconds per mention, wall seconds per mention, results)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = [fn(t) for t in texts]
    return label, (time.process_time() - cpu) / len(texts), (time.perf_counter() - wall) / len(texts), out


def bench_matching(n: int) -> tuple[float, float]:
    """(BrandMatcher's mentions/s, the reference's), in CPU time."""
    brands = brand_configs()
    texts = synthetic_mentions(n, brands)
    matcher = BrandMatcher(brands)
    nodes = [(b.name, brand_node(b)) for b in brands]
    compiled = [compile_brand(b) for b in brands]

    def reference(text: str) -> list[str]:
        found = words(text)
        return [name for name, node in nodes if node is not None and evaluate(node, found)]

    def compiled_all(text: str) -> list[str]:
        padded = " " + " ".join(words(text)) + " "
        return [c.name for c in compiled if c.test(padded)]

    def normalise_only(text: str) -> list[str]:
        words(text)
        return []

    sample = texts[:REFERENCE_SAMPLE]  # the reference is slow: timed on a sample, checked against it
    runs = [timed("normalise only (words)", normalise_only, texts),
            timed("reference: walk every query tree*", reference, sample),
            timed("compiled, all 50 brands", compiled_all, texts),
            timed("BrandMatcher (trigger index)", matcher.brands_for_text, texts)]
    expected = runs[1][3]
    for label, _, _, out in runs[2:]:
        assert out[: len(sample)] == expected, f"{label} disagrees with the reference"
    assert runs[2][3] == runs[3][3], "the trigger index changed a result"
    matched = sum(1 for found in runs[3][3] if found)
    chars = sum(len(t) for t in texts) / len(texts)
    print(f"\nMatching: {len(brands)} brand queries, {n:,} mentions (avg {chars:.0f} chars, "
          f"{matched / n:.0%} about a brand), one thread")
    print(f"{'matcher':36s} {'µs/mention':>11s} {'mentions/s':>11s} {'wall m/s':>10s} {'vs reference':>13s}")
    base = runs[1][1]
    for label, cpu, wall, _ in runs:
        print(f"{label:36s} {cpu * 1e6:11.1f} {1 / cpu:11,.0f} {1 / wall:10,.0f} {base / cpu:12.1f}x")
    print(f"(* on the first {len(sample):,} mentions; mentions/s from CPU time of this process, "
          "wall m/s from the clock)")
    return 1 / runs[-1][1], 1 / runs[1][1]


def pseudo_vocabulary(size: int, rng: random.Random) -> list[str]:
    syllables = ["ka", "ber", "ung", "ste", "lo", "mi", "an", "ter", "sch", "ei", "on", "ra", "ti", "ver", "ge",
                 "ack", "ly", "ment", "pro", "ing", "qu", "zu", "el", "or", "ha"]
    found = {"".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(size * 2)}
    return sorted(found)[:size]


def store_texts(n: int, seed: int) -> list[str]:
    """Mentions with a realistic spread of words: filler plus a Zipf-distributed 30k-word vocabulary."""
    rng = random.Random(seed)
    vocabulary = FILLER_DE + FILLER_EN + pseudo_vocabulary(30_000, rng)
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    texts = []
    for _ in range(n):
        chosen = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(10, 60))
        chosen.insert(rng.randrange(len(chosen)), rng.choice(STEMS))
        texts.append(" ".join(chosen))
    return texts


def build_store(path: str, texts: list[str], now: datetime) -> tuple[Store, int]:
    """Mentions and their band keys, bulk-loaded (keys sorted, index built afterwards: minutes, not hours)."""
    store = Store(f"sqlite:///{path}")
    upgrade(store)
    with store.write() as session:
        source = SourceRow(name="bench", kind="bench", cursor={})
        session.add(source)
        session.flush()
        source_id = source.id
    n = len(texts)
    keys = np.zeros((n, BANDS), dtype=np.int64)
    for start in range(0, n, 50_000):
        rows = []
        for i in range(start, min(n, start + 50_000)):
            body = texts[i]
            rows.append({"id": i + 1, "source_id": source_id, "source_kind": "bench", "external_id": str(i),
                         "text": body, "fetched_at": now - timedelta(seconds=n - i), "reach": {},
                         "content_hash": content_hash(body), "canonical_id": None})
            keys[i] = band_keys(dedup_words(body))
        with store.write() as session:
            session.execute(insert(MentionRow), rows)
    flat_keys = keys.ravel()
    ids = np.repeat(np.arange(1, n + 1, dtype=np.int64), BANDS)
    order = np.lexsort((ids, flat_keys))
    flat_keys, ids = flat_keys[order], ids[order]
    keep = np.ones(len(flat_keys), dtype=bool)  # a text may repeat a band key: the primary key says once
    keep[1:] = (flat_keys[1:] != flat_keys[:-1]) | (ids[1:] != ids[:-1])
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        cursor.execute("DROP INDEX ix_near_dup_keys_mention_id")
        cursor.executemany("INSERT INTO near_dup_keys (band_key, mention_id) VALUES (?, ?)",
                           zip(flat_keys[keep].tolist(), ids[keep].tolist(), strict=True))  # type: ignore[arg-type]
        cursor.execute("CREATE INDEX ix_near_dup_keys_mention_id ON near_dup_keys (mention_id)")
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
    finally:
        raw.close()
    return store, int(keep.sum())


def bench_dedup(store_size: int, lookups: int = 1000) -> tuple[float, int, int]:
    """(ms CPU per lookup, edited copies linked, fresh texts linked)."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    texts = store_texts(store_size, seed=3)
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        store, keyed = build_store(f"{tmp}/bench.db", texts, now)
        built = time.perf_counter() - start
        size = sum(os.path.getsize(p) for p in Path(tmp).glob("bench.db*"))
        probes = []
        fresh = store_texts(lookups, seed=99)
        for j in range(lookups):
            if j % 2:  # an edited copy of a recent stored mention: a word dropped, a link and "via @x" added
                copied = texts[rng.randrange(max(0, store_size - 20_000), store_size)].split()
                del copied[rng.randrange(len(copied))]
                probes.append((" ".join(copied) + " https://example.org/x via @someone", True))
            else:
                probes.append((fresh[j], False))
        found = {True: 0, False: 0}
        start, cpu = time.perf_counter(), time.process_time()
        with store.read() as session:
            for j, (body, is_copy) in enumerate(probes):
                mention = Mention("bench", "bench", f"p{j}", body, now)
                found[is_copy] += canonical_for(session, content_hash(body), mention) is not None
        per_lookup = (time.perf_counter() - start) / lookups * 1000
        cpu_per_lookup = (time.process_time() - cpu) / lookups * 1000
        store.dispose()
    print(f"\nNear-duplicates: store of {store_size:,} mentions ({keyed:,} band keys, {size / 1e6:,.0f} MB on disk, "
          f"bulk-built in {built:.0f} s)")
    print(f"canonical_for over {lookups} new mentions: {cpu_per_lookup:.2f} ms CPU, "
          f"{per_lookup:.2f} ms wall per lookup")
    print(f"edited copies linked: {found[True]}/{lookups // 2}; "
          f"fresh texts linked: {found[False]}/{lookups - lookups // 2}")
    return cpu_per_lookup, found[True], found[False]


def main() -> None:
    from suite import Figure, add_summary_option, write_summary

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--store", type=int, default=100_000, help="mentions in the dedup store (0: skip)")
    parser.add_argument("--lookups", type=int, default=1000, help="new mentions looked up in the dedup store")
    add_summary_option(parser)
    args = parser.parse_args()
    rate, reference = bench_matching(args.mentions)
    print(f"target ≥ 50,000 mentions/s: {'met' if rate >= 50_000 else 'NOT met'} ({rate:,.0f})")
    figures = [Figure("matching", f"BrandMatcher, mentions/s (one core, {args.mentions:,} mentions)", f"{rate:,.0f}",
                      f"tree walk {reference:,.0f}", "≥ 50,000", rate >= 50_000)]
    if args.store:
        ms, copies, fresh = bench_dedup(args.store, args.lookups)
        figures += [Figure("matching", f"canonical_for, ms CPU per lookup ({args.store:,} stored)", f"{ms:.2f}"),
                    Figure("matching", "edited copies linked / fresh texts linked",
                           f"{copies}/{args.lookups // 2} / {fresh}/{args.lookups - args.lookups // 2}")]
    write_summary(args.summary, figures)


if __name__ == "__main__":
    main()
