"""`oxsync watch` as a long-running process: what it exits with when a pair cannot be
watched, and how it stops. Subprocesses (watch installs signal handlers), with timeouts."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import ItemKind
from oxsync.core.store import Create
from oxsync.testing.samples import sample

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


def _seed(path: Path, n: int) -> None:
    store = VdirStore(path=str(path))
    ops = [Create(sample(ItemKind.CONTACT, i)) for i in range(n)]
    for i in range(0, n, 500):
        store.apply("contacts", ops[i : i + 500])


def _uids(path: Path) -> list[str | None]:
    store = VdirStore(path=str(path))
    ids = [ref.id for ref in store.changes("contacts", None).changed]
    return [item.record.uid for item in store.fetch("contacts", ids).values()]  # type: ignore[union-attr]


def _vdir_pair(tmp_path: Path, n: int) -> Path:
    """vdir A holding ``n`` contacts, an empty vdir B: a first sync of some seconds."""
    _seed(tmp_path / "va", n)
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[stores.a]
type = "vdir"
path = {json.dumps(str(tmp_path / "va"))}
[stores.b]
type = "vdir"
path = {json.dumps(str(tmp_path / "vb"))}
[pairs.p]
a = "a"
b = "b"
state_path = {json.dumps(str(tmp_path / "state.sqlite"))}
""",
        "utf-8",
    )
    return config


def _assert_converged_after_a_sync(config: Path, tmp_path: Path, n: int) -> None:
    again = subprocess.run(
        [*OXSYNC, "--config", str(config), "sync"], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    a_uids, b_uids = _uids(tmp_path / "va"), _uids(tmp_path / "vb")
    assert len(a_uids) == len(set(a_uids)) == n
    assert sorted(map(str, a_uids)) == sorted(map(str, b_uids))


def test_ctrl_c_during_sync_exits_130_and_the_next_sync_finishes(tmp_path: Path) -> None:
    # was: click's 'Aborted!' and exit 1, the code of a sync that ran with folder errors
    config = _vdir_pair(tmp_path, 1500)
    written = tmp_path / "vb" / "contacts"
    proc = subprocess.Popen(
        [*OXSYNC, "--config", str(config), "sync"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(list(written.glob("*.vcf"))) < 100:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(list(written.glob("*.vcf"))) < 1500, "the sync ended before the signal"
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    _assert_converged_after_a_sync(config, tmp_path, 1500)


def test_a_second_signal_stops_watch_at_once_and_the_next_sync_finishes(
    tmp_path: Path,
) -> None:
    # was: the first signal let the sync in progress run to its end (fine), a second one
    # was ignored, so a long first sync could not be stopped from the terminal
    config = _vdir_pair(tmp_path, 1500)
    written = tmp_path / "vb" / "contacts"
    proc = _watch(config, "--no-push")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(list(written.glob("*.vcf"))) < 100:
            time.sleep(0.02)
        at_signal = len(list(written.glob("*.vcf")))
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        # the first signal ends the sync at its next batch, which on a fast machine can
        # be a few milliseconds away; signals keep coming (a user hammering Ctrl-C) until
        # the process ends: each one after the first stops it at once, also while it
        # is already exiting (that was a KeyboardInterrupt traceback and exit -2)
        while proc.poll() is None and time.monotonic() - started < 10:
            time.sleep(0.005)
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert at_signal < 1500, "the sync ended before the signals"
    assert proc.returncode == 130, (out, err)
    assert len(list(written.glob("*.vcf"))) < 1500, "the sync went on to its end"
    assert elapsed < 10
    assert "interrupted" in err and "Traceback" not in err
    _assert_converged_after_a_sync(config, tmp_path, 1500)
