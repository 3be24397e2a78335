"""WATCHDOG=1 only after a real liveness check: withheld while the scheduler is down, resumed when it is back."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from listener.app import App
from listener.config import parse_settings
from listener.ops.surface import OpsSurface
from listener.ops.systemd import watchdog_interval


def test_the_watchdog_is_pinged_only_while_the_daemon_is_alive(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(0.5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "2000")  # WatchdogSec= of 2 ms: a ping is due on every tick
    app = App(parse_settings({"database": {"url": f"sqlite:///{tmp_path / 'listener.db'}"}}))
    running = {"scheduler": False}
    surface = OpsSurface(app, lambda: running["scheduler"])
    try:
        assert surface.watchdog == 0.001
        surface.tick()
        with pytest.raises(TimeoutError):
            notify.recv(100)  # the scheduler is not running: no ping, systemd will restart the service
        running["scheduler"] = True
        surface.tick()
        assert notify.recv(100) == b"WATCHDOG=1"
    finally:
        app.close()
        notify.close()


def test_watchdog_interval_follows_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "120000000")
    assert watchdog_interval() == 60.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert watchdog_interval() is None
