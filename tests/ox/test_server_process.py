"""``python -m oxsync.testing.oxserver``: the OX test server as a process of its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from oxsync.adapters.ox import OXStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Applied, Create
from oxsync.core.triggers import TriggerQueue
from oxsync.testing.oxserver._serve import main

PASSWORD = "s3cret-Pw-9"


def _ready_line(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    assert proc.stdout is not None
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    assert found and found[0], "the server printed no ready line"
    return found[0]


def test_a_seeded_server_process_serves_syncs_pushes_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "oxsync.testing.oxserver", "--user", f"bob:{PASSWORD}",
         "--user", "carol:other-pw", "--seed", "5", "--json", "--push-delay", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        ready = json.loads(_ready_line(proc))
        assert ready["users"] == ["bob", "carol"]
        assert ready["url"].startswith("http://127.0.0.1:")
        bob = OXStore(ready["url"], "bob", PASSWORD, timeout=10)
        folders = {f.kind: f for f in bob.folders() if f.is_default}
        contacts = folders[FolderKind.CONTACTS].id
        listed = bob.changes(contacts, None).changed
        assert len(listed) == 6  # five seeded contacts and the list
        queue = TriggerQueue()
        listener = bob.push_listener(queue.notify, host="127.0.0.1", port=ready["push"][1])
        listener.start()
        try:
            assert listener.registered.wait(10)
            writer = OXStore(ready["url"], "bob", PASSWORD, timeout=10)
            (done,) = writer.apply(contacts, [Create(Contact(uid="new-1", last_name="New"))])
            assert isinstance(done, Applied)
            writer.close()
            assert queue.wait(timeout=10) == {contacts}
        finally:
            listener.stop()
        carol = OXStore(ready["url"], "carol", "other-pw", timeout=10)
        carol_contacts = next(
            f for f in carol.folders() if f.kind is FolderKind.CONTACTS and f.is_default
        )
        assert len(carol.changes(carol_contacts.id, None).changed) == 6
        carol.close()
        bob.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert PASSWORD not in out + err and "other-pw" not in out + err


def _serve(argv: list[str]) -> tuple[threading.Event, threading.Thread, list[int]]:
    stop, codes = threading.Event(), []
    thread = threading.Thread(target=lambda: codes.append(main(argv, stop=stop)), daemon=True)
    thread.start()
    return stop, thread, codes


def test_a_port_in_use_is_a_clear_error_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--port", str(port)], stop=threading.Event()) == 2
    assert "cannot bind the HTTP port" in capsys.readouterr().err


def test_the_server_stops_when_asked_and_prints_its_address_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stop, thread, codes = _serve(["--user", f"dave:{PASSWORD}"])
    deadline = time.monotonic() + 10
    while (
        "OX test server at" not in (out := capsys.readouterr().out) and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    assert codes == [0]
    assert "accounts: dave" in out and PASSWORD not in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--user", "nopassword"],
        ["--user", ":pw"],
        ["--user", "bad login:pw"],
        ["--port", "70000"],
        ["--port", "http"],
        ["--host", "localhost.example"],
        ["--seed", "-1"],
        ["--seed", "100001"],
        ["--push-delay", "nan"],
    ],
)
def test_bad_arguments_exit_2_without_echoing_a_password(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv, stop=threading.Event())
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "pw" not in err.replace("--push", "")


def test_the_same_login_twice_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--user", "eve:a-pw", "--user", "eve:b-pw"], stop=threading.Event()) == 2
    assert "the same login twice" in capsys.readouterr().err
