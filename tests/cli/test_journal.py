"""What a sync did reaches the log file: conflicts, ignored items, the summary of every
sync that did something; stderr shows each once (with -v), never twice."""

from __future__ import annotations

from pathlib import Path

import attrs

from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Applied, Update
from oxsync.testing.oxserver import OXTestServer
from tests.cli.test_cli import config, run, server  # noqa: F401  (fixtures)


def _edit_both_sides(tmp_path: Path, server: OXTestServer) -> None:  # noqa: F811
    store = VdirStore(tmp_path / "vdir")
    folder = next(f for f in store.folders() if f.kind is FolderKind.CONTACTS and f.is_default)
    refs = store.changes(folder.id, None).changed
    items = store.fetch(folder.id, [r.id for r in refs])
    ref = next(r for r in refs if getattr(items[r.id].record, "last_name", "") == "Person 0")
    record = items[ref.id].record
    assert isinstance(record, Contact)
    (done,) = store.apply(
        folder.id, [Update(ref.id, attrs.evolve(record, job_title="From the files"), ref.version)]
    )
    assert isinstance(done, Applied)
    contacts = server.backend.default_folder("alice", "contact")
    (obj,) = [
        o
        for o in server.backend.objects_in(contacts)
        if "last_name" in o.fields and o.fields["last_name"].text == "Person 0"
    ]
    server.backend.save("alice", contacts, {"position": "From the server"}, object_id=obj.id)


def test_a_conflict_and_the_summary_are_in_the_log_file_once_on_stderr_with_v(
    config: Path,  # noqa: F811
    tmp_path: Path,
    server: OXTestServer,  # noqa: F811
) -> None:
    run(config, "sync")
    log = tmp_path / "oxsync.log"
    before = log.read_text() if log.exists() else ""
    quiet = run(config, "sync")  # nothing changed: nothing logged
    assert (log.read_text() if log.exists() else "") == before
    assert "conflict" not in quiet.stderr
    _edit_both_sides(tmp_path, server)
    done = run(config, "-v", "sync")
    assert "conflicts 1" in done.stdout
    shown = [line for line in done.stderr.splitlines() if "changed on both sides" in line]
    assert len(shown) == 1 and shown[0].lstrip().startswith("conflict:"), done.stderr
    text = log.read_text()[len(before) :]
    logged = [line for line in text.splitlines() if "changed on both sides" in line]
    assert len(logged) == 1 and "work [" in logged[0] and ": conflict: " in logged[0], text
    # the journal names the fields the two sides held otherwise, never their values
    assert "(fields: job_title)" in logged[0], logged[0]
    assert "From the files" not in text and "From the server" not in text
    assert any("work: A +" in line and "conflicts 1" in line for line in text.splitlines())
    assert "INFO oxsync.cli" not in done.stderr  # the file's records stay off stderr


def test_an_ignored_item_is_logged(config: Path, tmp_path: Path) -> None:  # noqa: F811
    run(config, "sync")
    store = VdirStore(tmp_path / "vdir")
    folder = next(f for f in store.folders() if f.kind is FolderKind.CONTACTS and f.is_default)
    (tmp_path / "vdir" / folder.id / "broken.vcf").write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Broken\nBDAY:2026-13-45\nEND:VCARD\n"
    )
    done = run(config, "sync")
    assert "ignored" not in done.stderr  # the summary says it; stderr stays quiet without -v
    logged = (tmp_path / "oxsync.log").read_text()
    assert "broken.vcf" in logged and ": ignored: " in logged
