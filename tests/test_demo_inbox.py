"""`listener demo` ends by serving the care inbox on its data: it prints where and how to sign in, serves the
demo's tasks until Ctrl-C (SIGINT), and then stops cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from listener.demo.servers import free_port
from tests.web_support import csrf_of


def test_demo_serves_the_care_inbox_until_ctrl_c(tmp_path: Path, negative_model: Path) -> None:
    port = free_port()
    demo = subprocess.Popen([sys.executable, "-m", "listener", "demo", "--model", str(negative_model), "--dir",
                             str(tmp_path / "demo"), "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    signed_in = threading.Event()

    def read() -> None:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if "sign in as" in line:
                signed_in.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert signed_in.wait(300), "".join(lines)
        out = "".join(lines)
        url = re.search(r"open (http://127\.0\.0\.1:\d+)/queue", out)
        login = re.search(r"sign in as (\w+) with the password (\S+)", out)
        assert url and login and url.group(1) == f"http://127.0.0.1:{port}", out
        with httpx.Client(base_url=url.group(1), timeout=30) as client:
            token = csrf_of(client.get("/login").text)
            response = client.post("/login", data={"csrf": token, "name": login.group(1),
                                                   "password": login.group(2)})
            assert response.status_code == 303
            queue = client.get("/queue").text
        assert len(re.findall(r'data-task="\d+"', queue)) == 9  # the demo's nine complaints about Acme
        demo.send_signal(signal.SIGINT)
        assert demo.wait(60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
        reader.join(10)
    assert "care inbox stopped" in "".join(lines)
    assert f'listen = "127.0.0.1:{port}"' in (tmp_path / "demo" / "listener.toml").read_text()
