"""Sign-in under attack: N parallel wrong passwords for one account, then N for N accounts from N addresses.

    python bench/bench_signin.py                       # this checkout
    python bench/bench_signin.py --code /work/main     # the server from another checkout (e.g. before a change)

Serves a fresh SQLite store with `listener web` in its own process (behind a pretend proxy: requests carry
X-Forwarded-For and 127.0.0.1 is trusted), fires each burst with all POSTs leaving together, and reports how many
passwords were checked (401) and refused before hashing (429), the wall time, and the server's resident memory
before and at its peak (VmHWM). Target: at most `login_attempts` (5) checks for one account; peak RSS growth
≤ 400 MiB (Argon2 takes 64 MiB per check).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from suite import Figure, add_summary_option, write_summary  # noqa: E402  (bench/ is on the path when run)

from listener.demo.servers import free_port  # noqa: E402

PASSWORD = "bench password 123"
CSRF_MARK = 'name="csrf" value="'


def memory(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return -1


def attempt(base: str, name: str, address: str, start: threading.Barrier) -> int:
    with httpx.Client(base_url=base, timeout=600, headers={"X-Forwarded-For": address}) as client:
        page = client.get("/login", headers={"Connection": "close"}).text
        token = page.split(CSRF_MARK, 1)[1].split('"', 1)[0]
        start.wait()
        return client.post("/login", data={"name": name, "password": "wrong password", "csrf": token}).status_code


def burst(base: str, guesses: list[tuple[str, str]]) -> tuple[Counter[int], float]:
    start = threading.Barrier(len(guesses))
    began = time.perf_counter()
    with ThreadPoolExecutor(len(guesses)) as pool:
        codes = Counter(pool.map(lambda g: attempt(base, g[0], g[1], start), guesses))
    return codes, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1],
                    help="the checkout whose `listener web` is attacked (default: this one)")
    ap.add_argument("--parallel", type=int, default=30)
    add_summary_option(ap)
    args = ap.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(args.code.resolve()), "LISTENER_WEB_SESSION_SECRET": "bench-secret"}
    with tempfile.TemporaryDirectory(prefix="bench-signin-") as tmp:
        config = Path(tmp) / "listener.toml"
        port = free_port()
        config.write_text(f'[database]\nurl = "sqlite:///{tmp}/l.db"\n\n[web]\nlisten = "127.0.0.1:{port}"\n'
                          'trusted_proxies = ["127.0.0.1"]\n')
        listener = [sys.executable, "-m", "listener", "-c", str(config)]
        # cwd: `python -m` would import listener from the current directory before PYTHONPATH
        subprocess.run([*listener, "db", "upgrade"], env=env, cwd=tmp, check=True, capture_output=True)
        subprocess.run([*listener, "users", "add", "ben", "--role", "agent", "--password-stdin"], env=env, cwd=tmp,
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        server = subprocess.Popen([*listener, "web"], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    httpx.get(f"{base}/login", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            before = memory(server.pid, "VmRSS")
            one, one_s = burst(base, [("ben", "198.51.100.9")] * args.parallel)
            peak_one = memory(server.pid, "VmHWM")
            many, many_s = burst(base, [(f"user{i}", f"198.51.100.{100 + i}") for i in range(args.parallel)])
            peak = memory(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(30)
    n = args.parallel
    print(f"code: {args.code}", file=sys.stderr)
    print(f"{n} parallel wrong passwords for one account: {one[401]} checked (401), {one[429]} refused (429), "
          f"other {dict((k, v) for k, v in one.items() if k not in (401, 429))}; {one_s:.1f} s; "
          f"RSS {before} MiB before, peak {peak_one} MiB", file=sys.stderr)
    print(f"{n} parallel wrong passwords for {n} accounts from {n} addresses: {many[401]} checked, "
          f"other {dict((k, v) for k, v in many.items() if k != 401)}; {many_s:.1f} s; peak RSS {peak} MiB",
          file=sys.stderr)
    write_summary(args.summary, [
        Figure("signin", f"passwords checked of {n} parallel for one account", str(one[401]), target="≤ 5",
               met=one[401] <= 5),
        Figure("signin", "peak RSS growth, MiB", str(peak - before), target="≤ 400", met=peak - before <= 400),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
