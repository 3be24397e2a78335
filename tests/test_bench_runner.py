"""bench/run.py: runs each benchmark in its own process, bounded, and prints their figures as one table."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import run  # noqa: E402


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {str(BENCH)!r})
        from suite import Figure, write_summary
        from pathlib import Path
        summary = Path(sys.argv[sys.argv.index("--summary") + 1])
        """) + textwrap.dedent(body))
    return str(path)


def test_figures_of_every_benchmark_in_one_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fast = script(tmp_path, "fast.py", """\
        assert sys.argv[1:3] == ["--n", "8"]  # the --quick arguments
        write_summary(summary, [Figure("fast", "things/s", "1,234", "reference 12", "≥ 1,000", True),
                                Figure("fast", "ms per thing", "0.81")])
        """)
    slow = script(tmp_path, "slow.py", """\
        write_summary(summary, [Figure("slow", "things/s", "3", "", "≥ 10", False)])
        """)
    broken = script(tmp_path, "broken.py", "raise SystemExit(3)\n")
    monkeypatch.setattr(run, "BENCHMARKS", (
        run.Benchmark("fast", fast, ("--n", "1000"), ("--n", "8"), 60, 60),
        run.Benchmark("slow", slow, (), (), 60, 60),
        run.Benchmark("broken", broken, (), (), 60, 60),
        run.Benchmark("needs-a-server", fast, (), (), 60, 60, needs_env="LISTENER_BENCH_TEST_SERVER"),
    ))
    monkeypatch.delenv("LISTENER_BENCH_TEST_SERVER", raising=False)
    assert run.main(["--quick"]) == 1  # a failed benchmark and a missed target
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "quick runs: not figures to quote"
    assert out[1].split() == ["benchmark", "measure", "value", "baseline,", "same", "run", "target", "met", "run"]
    rows = [line.split("  ") for line in out[3:]]
    cells = [[c.strip() for c in row if c.strip()] for row in rows]
    assert cells[0][:6] == ["fast", "things/s", "1,234", "reference 12", "≥ 1,000", "yes"]
    assert cells[1][:3] == ["fast", "ms per thing", "0.81"]
    assert cells[2][:5] == ["slow", "things/s", "3", "≥ 10", "NO"]
    assert cells[3] == ["broken", "—", "—", "failed (exit 3)"]
    assert cells[4] == ["needs-a-server", "—", "—", "skipped (needs $LISTENER_BENCH_TEST_SERVER)"]
    assert run.main(["--quick", "--only", "fast", "needs-a-server"]) == 0  # skipped is not failed


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has stopped; only its parent's reaping is left


def test_a_benchmark_over_its_limit_is_stopped_with_its_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    pid_file = tmp_path / "worker.pid"
    hangs = script(tmp_path, "hangs.py", f"""\
        import subprocess, time
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        Path({str(pid_file)!r}).write_text(str(worker.pid))
        time.sleep(600)
        """)
    monkeypatch.setattr(run, "BENCHMARKS", (run.Benchmark("hangs", hangs, (), (), 3, 3),))
    assert run.main([]) == 1
    assert "timed out after 3 s" in capsys.readouterr().out
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:  # SIGKILL is immediate; this only waits for the kernel
        time.sleep(0.05)
    assert not alive(worker)


def test_every_benchmark_is_run_and_none_imports_the_tests() -> None:
    """A bench_*.py left out of BENCHMARKS never runs with the others; one importing tests/ is not a script a user
    can run from the package's sources alone."""
    import ast

    scripts = sorted(p.name for p in BENCH.glob("bench_*.py"))
    assert sorted(b.script for b in run.BENCHMARKS) == scripts
    for path in BENCH.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in imported if m.split(".")[0] == "tests"], path.name
