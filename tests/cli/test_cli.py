"""The `oxsync` command line, run as a subprocess against the OX test server on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Update
from oxsync.testing.oxserver import OXPermission, OXTestServer

CANARY = "canary-Pa55w0rd-7f3a"
OXSYNC = [sys.executable, "-m", "oxsync.cli"]


@pytest.fixture
def server() -> Iterator[OXTestServer]:
    with OXTestServer(push_delay=0.05) as srv:
        srv.backend.add_user("alice", CANARY)
        bob = srv.backend.add_user("bob", "bob-secret")
        alice = srv.backend.user("alice")
        contacts = srv.backend.default_folder("alice", "contact")
        for i in range(5):
            srv.backend.save("alice", contacts, {"last_name": f"Person {i}", "first_name": "Ada"})
        shared = srv.backend.add_folder(
            "bob",
            "Read-only team",
            "contact",
            permissions=[
                OXPermission(bob.id, False, 128, 128, 128, 128, True),
                OXPermission(alice.id, False, 2, 4, 0, 0, False),
            ],
        )
        srv.backend.save("bob", shared.id, {"last_name": "Shared contact"})
        yield srv


@pytest.fixture
def config(tmp_path: Path, server: OXTestServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[stores.server]
type = "ox"
base_url = "{server.url}"
username = "alice"
password_env = "OXSYNC_TEST_PASSWORD"
push_port = {server.push_address[1]}

[stores.files]
type = "vdir"
path = "{tmp_path / "vdir"}"

[pairs.work]
a = "server"
b = "files"
modules = ["contacts", "appointments", "tasks"]
conflict = "newest-wins"
poll_interval = 60
state_path = "{tmp_path / "state.sqlite"}"
""")
    return path


def run(
    config: Path, *args: str, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OXSYNC_TEST_PASSWORD": CANARY, "OXSYNC_CONFIG": str(config)}
    proc = subprocess.run(
        [*OXSYNC, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    assert CANARY not in proc.stdout + proc.stderr
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def vdir_contacts(tmp_path: Path) -> dict[str, Contact]:
    store = VdirStore(tmp_path / "vdir")
    out: dict[str, Contact] = {}
    for folder in store.folders():
        if folder.kind is FolderKind.CONTACTS:
            ids = [r.id for r in store.changes(folder.id, None).changed]
            for item in store.fetch(folder.id, ids).values():
                out[item.record.uid or ""] = item.record  # type: ignore[union-attr]
    return out


def test_dry_run_then_sync_then_status(config: Path, tmp_path: Path) -> None:
    dry = run(config, "sync", "--dry-run")
    assert "create on B" in dry.stdout and "action(s)" in dry.stdout
    assert not (tmp_path / "vdir").exists() or vdir_contacts(tmp_path) == {}
    done = run(config, "--json", "sync", "work")
    report = json.loads(done.stdout)["work"]
    assert report["b"]["created"] >= 6
    assert len(vdir_contacts(tmp_path)) >= 6
    status = json.loads(run(config, "--json", "status").stdout)["work"]
    assert status["online"] == {"a": "online", "b": "online"}
    assert sum(f["items"] for f in status["folders"]) >= 6
    again = json.loads(run(config, "--json", "sync").stdout)["work"]
    assert again["a"] == again["b"] == {"created": 0, "updated": 0, "deleted": 0, "moved": 0}
    slow = json.loads(run(config, "--json", "slowsync", "work").stdout)["work"]
    assert slow["errors"] == []


def test_refused_edit_goes_to_ignored_and_retry_flags_it(config: Path, tmp_path: Path) -> None:
    run(config, "sync")
    store = VdirStore(tmp_path / "vdir")
    shared = next(f for f in store.folders() if f.name.endswith("Read-only team"))
    ref = next(iter(store.changes(shared.id, None).changed))
    item = store.fetch(shared.id, [ref.id])[ref.id]
    record = item.record  # type: ignore[union-attr]
    store.apply(
        shared.id, [Update(ref.id, Contact(uid=record.uid, last_name="Edited"), ref.version)]
    )
    run(config, "sync")
    listed = json.loads(run(config, "--json", "ignored").stdout)["work"]
    assert len(listed) == 1 and listed[0]["failure"] == "permission"
    assert listed[0]["reason"]
    retried = run(config, "ignored", "--retry")
    assert "1 item(s) will be retried" in retried.stdout


def test_watch_receives_push_and_stops_cleanly_on_sigterm(
    config: Path, tmp_path: Path, server: OXTestServer
) -> None:
    env = {
        **os.environ,
        "OXSYNC_TEST_PASSWORD": CANARY,
        "OXSYNC_CONFIG": str(config),
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [*OXSYNC, "watch", "--poll", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(vdir_contacts_safe(tmp_path)) < 6:
            time.sleep(0.2)
        assert len(vdir_contacts_safe(tmp_path)) >= 6, "the first sync did not run"
        contacts = server.backend.default_folder("alice", "contact")
        server.backend.save("alice", contacts, {"last_name": "Pushed contact"})
        # Poll interval is 60 s: only the push can bring it within the deadline.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(c.last_name == "Pushed contact" for c in vdir_contacts_safe(tmp_path).values()):
                break
            time.sleep(0.2)
        else:
            proc.kill()
            out, err = proc.communicate(timeout=10)
            pytest.fail(f"the pushed change never reached the vdir:\n{out}\n{err}")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "push listener" in out and "stopped" in out
    assert CANARY not in out + err
    # State intact: a following sync has nothing to do.
    again = json.loads(run(config, "--json", "sync").stdout)["work"]
    assert again["b"] == {"created": 0, "updated": 0, "deleted": 0, "moved": 0}


def vdir_contacts_safe(tmp_path: Path) -> dict[str, Contact]:
    try:
        return vdir_contacts(tmp_path)
    except Exception:
        return {}


def test_diagnostics_export_contains_no_secret(config: Path, tmp_path: Path) -> None:
    run(config, "-vv", "sync")
    target = tmp_path / "diag.zip"
    run(config, "diagnostics", "export", str(target))
    with zipfile.ZipFile(target) as zf:
        names = set(zf.namelist())
        assert {"versions.json", "config.json", "state.json"} <= names
        blob = b"".join(zf.read(n) for n in names)
    assert CANARY.encode() not in blob
    assert b"password_env" not in blob or b"OXSYNC_TEST_PASSWORD" in blob
    config_data = json.loads(zipfile.ZipFile(target).read("config.json"))
    assert config_data["stores"]["server"]["type"] == "ox"


def test_doctor_reports_each_store(config: Path) -> None:
    out = json.loads(run(config, "--json", "doctor").stdout)
    assert out["server"]["connect"].startswith("ok")
    assert out["server"]["tls"] == "none (http)"
    assert out["files"]["connect"].startswith("ok")


def test_config_error_names_key_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[stores.x]\ntype = "vdir"\npath = "/tmp/x"\n\n[pairs.p]\na = "x"\nb = "missing"\n'
    )
    proc = run(bad, "sync", check=False)
    assert proc.returncode == 2
    assert "pairs.p.b" in proc.stderr and "line 7" in proc.stderr


def test_wrong_password_is_a_clean_refusal(config: Path, tmp_path: Path) -> None:
    env = {**os.environ, "OXSYNC_TEST_PASSWORD": "wrong", "OXSYNC_CONFIG": str(config)}
    proc = subprocess.run(
        [*OXSYNC, "sync"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert proc.returncode == 5, proc.stderr
    assert "Traceback" not in proc.stderr and "wrong" not in proc.stderr


def test_server_gone_exits_unreachable(config: Path, server: OXTestServer) -> None:
    server.stop_http()
    proc = run(config, "sync", check=False)
    assert proc.returncode in (1, 4), proc.stderr
    assert "Traceback" not in proc.stderr
