"""Run every benchmark in bench/ and print one table of their figures (see bench/README.md).

    python bench/run.py                  # the full runs, as the docs quote them (tens of minutes on 2 cores)
    python bench/run.py --quick          # smaller runs of each: minutes; a smoke check, not a figure to quote
    python bench/run.py --only scoring   # one of them

Each benchmark runs in its own process, bounded by its time limit (--timeout overrides all): one that runs
over is stopped and reported as such, and the others still run. The exit status is 1 when a benchmark failed
or ran over, or a target was missed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
STDERR_FD = 2  # the benchmarks' own output goes here; the table alone goes to stdout
sys.path.insert(0, str(BENCH))

from suite import Figure, read_summary  # noqa: E402


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    full: tuple[str, ...]  # arguments of the full run
    quick: tuple[str, ...]  # arguments of --quick
    limit_s: float  # full run
    quick_limit_s: float
    needs_env: str = ""  # an environment variable it cannot run without (it is skipped, not failed)


BENCHMARKS = (
    Benchmark("scoring", "bench_scoring.py", (), ("--n", "128", "--n-pipeline", "64", "--rounds", "1", "--skip-fp32"),
              limit_s=2400, quick_limit_s=600),
    Benchmark("matching", "bench_matching.py", (), ("--mentions", "10000", "--store", "10000", "--lookups", "200"),
              limit_s=1800, quick_limit_s=300),
    Benchmark("spikes", "bench_spikes.py", (), ("--brands", "2", "--weeks", "20", "--store", "20000"),
              limit_s=1200, quick_limit_s=300),
    Benchmark("digest", "bench_digest.py", (), ("--mentions", "20000", "--db", "sqlite"),
              limit_s=3600, quick_limit_s=600),
    Benchmark("web", "bench_web.py", (),
              ("--mentions", "20000", "--tasks", "500", "--requests", "10", "--db", "sqlite"),
              limit_s=2400, quick_limit_s=600),
    Benchmark("cluster", "bench_cluster.py", (), ("--model", "tiny", "--mentions", "100", "--rounds", "1"),
              limit_s=1200, quick_limit_s=300, needs_env="LISTENER_TEST_POSTGRES_URL"),
    Benchmark("signin", "bench_signin.py", (), ("--parallel", "10"), limit_s=900, quick_limit_s=300),
)


def run_benchmark(bench: Benchmark, quick: bool, limit_s: float) -> tuple[list[Figure], str]:
    """Its figures and a status: "ok", "skipped (…)", "timed out after N s" or "failed (exit N)"; its output goes
    to stderr."""
    if bench.needs_env and not os.environ.get(bench.needs_env):
        return [], f"skipped (needs ${bench.needs_env})"
    with tempfile.TemporaryDirectory(prefix=f"bench-{bench.name}-") as tmp:
        summary = Path(tmp) / "summary.json"
        cmd = [sys.executable, str(BENCH / bench.script), *(bench.quick if quick else bench.full), "--summary",
               str(summary)]
        print(f"== {bench.name}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
        # its own process group, so that a benchmark over its limit is stopped with the workers it started
        process = subprocess.Popen(cmd, stdout=STDERR_FD, start_new_session=True)
        try:
            code = process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return [], f"timed out after {limit_s:g} s"
        if code != 0 or not summary.is_file():
            return [], f"failed (exit {code})"
        return read_summary(summary), "ok"


def table(rows: list[tuple[Benchmark, list[Figure], str, float]]) -> str:
    header = ("benchmark", "measure", "value", "baseline, same run", "target", "met", "run")
    lines = [header]
    for bench, figures, status, seconds in rows:
        if not figures:
            lines.append((bench.name, "—", "—", "", "", "", status))
        for f in figures:
            met = "" if f.met is None else "yes" if f.met else "NO"
            lines.append((f.benchmark, f.measure, f.value, f.baseline, f.target, met, f"{seconds:.0f} s"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller runs (minutes): checks the suite, not the figures")
    ap.add_argument("--only", nargs="+", choices=[b.name for b in BENCHMARKS], help="run only these")
    ap.add_argument("--timeout", type=float, help="seconds each benchmark may take (default: its own limit)")
    args = ap.parse_args(argv)
    rows = []
    for bench in BENCHMARKS:
        if args.only and bench.name not in args.only:
            continue
        limit = args.timeout or (bench.quick_limit_s if args.quick else bench.limit_s)
        started = time.perf_counter()
        figures, status = run_benchmark(bench, args.quick, limit)
        rows.append((bench, figures, status, time.perf_counter() - started))
    print(("quick runs: not figures to quote\n" if args.quick else "") + table(rows))
    failed = any(status != "ok" and not status.startswith("skipped") for _b, _f, status, _s in rows)
    missed = any(f.met is False for _b, figures, _st, _s in rows for f in figures)
    return 1 if failed or missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
