"""A folder OX fails to list must not read as a folder deleted."""

from __future__ import annotations

import contextlib

import pytest

from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXStore
from oxsync.core.records import FolderKind
from oxsync.errors import OxsyncError, TransientError
from oxsync.testing.oxserver import OXApp, OXBackend
from tests.ox.conftest import CANARY
from tests.ox.helpers import one_kind_engine
from tests.ox.test_hunt3_listing import _failed_entry, _Switchable


def _failed_folder(title: str):  # type: ignore[no-untyped-def]
    return _failed_entry(title, "title")


def test_a_folder_ox_failed_to_list_is_not_deleted_on_the_other_side() -> None:
    # the entry was skipped, the folder read as gone from OX, and the engine deleted
    # its pair in the other store (with its items: fewer than the mass-delete brake)
    backend = OXBackend()
    backend.add_user("alice", CANARY)
    team = backend.add_folder("alice", "Team", "contact")
    backend.save("alice", team.id, {"uid": "t1", "last_name": "T"})
    transport = _Switchable(OXApp(backend))
    ox = OXStore("http://ox.test", "alice", CANARY, transport=transport)
    mem = MemoryStore()
    engine = one_kind_engine(ox, mem, FolderKind.CONTACTS)
    engine.sync()

    def team_items() -> list[str]:
        (folder,) = [f for f in mem.folders() if f.name == "Team"]
        return [r.uid or "" for r in mem.records(folder.id).values()]

    assert team_items() == ["t1"]
    transport.rewrite = _failed_folder("Team")
    with contextlib.suppress(OxsyncError):
        engine.sync()
    assert team_items() == ["t1"]
    with pytest.raises(TransientError, match="could not list"):
        ox.folders()
    transport.rewrite = None
    engine.sync()
    assert team_items() == ["t1"]
    ox.close()
