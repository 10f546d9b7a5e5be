"""`oxsync watch` as a long-running process: what it exits with when a pair cannot be
watched, and how it stops. Subprocesses (watch installs signal handlers), with timeouts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

OXSYNC = [sys.executable, "-m", "oxsync.cli"]


def _config(tmp_path: Path, state: Path, *, pairs: tuple[str, ...] = ("p",)) -> Path:
    text = '[stores.a]\ntype = "memory"\n'
    for name in pairs:
        text += f"""
[stores.b_{name}]
type = "vdir"
path = {json.dumps(str(tmp_path / f"vdir-{name}"))}

[pairs.{name}]
a = "a"
b = "b_{name}"
state_path = {json.dumps(str(state if name == pairs[0] else tmp_path / f"{name}.sqlite"))}
"""
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    return path


def _watch(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*OXSYNC, "--config", str(config), "watch", "--poll", "30", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_watch_of_an_unusable_state_exits_5_not_0(tmp_path: Path) -> None:
    # was: the pair's thread printed the error and ended; watch then said "stopped" and
    # exited 0, so a service manager or script took the failure for a clean stop
    state = tmp_path / "state.sqlite"
    state.write_bytes(b"not a database, not at all, " * 10)
    proc = _watch(_config(tmp_path, state))
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 5, (out, err)
    assert "p: " in err and "not a database" in err
    assert "Traceback" not in err
    assert state.read_bytes() == b"not a database, not at all, " * 10


def test_watch_keeps_the_good_pairs_and_reports_the_bad_one_when_stopped(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.sqlite"
    state.write_bytes(b"garbage " * 40)
    proc = _watch(_config(tmp_path, state, pairs=("bad", "good")))
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (tmp_path / "good.sqlite").exists():
            time.sleep(0.05)
        time.sleep(0.3)
        assert proc.poll() is None, proc.communicate()  # the good pair is still watched
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "stopped" in out
    assert proc.returncode == 5, (out, err)
    assert "bad: " in err and "Traceback" not in err
