"""`oxsync slowsync PAIR --restore`: the OX server lost its contacts; they come back."""

from __future__ import annotations

from pathlib import Path

from oxsync.testing.oxserver import OXTestServer
from tests.cli.test_cli import config, run, server, vdir_contacts  # noqa: F401  (fixtures)


def test_a_server_that_lost_its_contacts_gets_them_back_from_the_files(
    config: Path,  # noqa: F811
    tmp_path: Path,
    server: OXTestServer,  # noqa: F811
) -> None:
    run(config, "sync")
    before = vdir_contacts(tmp_path)
    contacts = server.backend.default_folder("alice", "contact")
    names = sorted(o.fields["last_name"].text for o in server.backend.objects_in(contacts))
    assert len(names) == 5
    for obj in server.backend.objects_in(contacts):  # the server is reset
        server.backend.delete("alice", obj.id)
    braked = run(config, "slowsync", "work", check=False)
    assert braked.returncode == 3, braked.stdout + braked.stderr
    assert vdir_contacts(tmp_path) == before  # the brake kept the files
    restored = run(config, "slowsync", "work", "--restore")
    assert "A +5" in restored.stdout and "-0" in restored.stdout, restored.stdout
    back = sorted(o.fields["last_name"].text for o in server.backend.objects_in(contacts))
    assert back == names
    assert vdir_contacts(tmp_path) == before
    again = run(config, "sync")
    assert "A +0 ~0 -0" in again.stdout and "B +0 ~0 -0" in again.stdout, again.stdout
