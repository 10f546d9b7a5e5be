"""OX (in-process test server) ⇄ vdir through the engine: what the demo does."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import attrs
import httpx

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.ox import OXStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core import records as r
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.store import Applied, Create
from oxsync.testing.oxserver import OXApp, OXBackend
from oxsync.testing.samples import sample


def test_ox_and_vdir_converge_and_an_edit_on_disk_reaches_ox(tmp_path: Path) -> None:
    backend = OXBackend()
    backend.add_user("alice", "secret")
    ox = OXStore(
        "http://ox.test", "alice", "secret", transport=httpx.WSGITransport(app=OXApp(backend))
    )
    folders = {f.kind: f.id for f in ox.folders() if f.is_default}
    series = attrs.evolve(
        sample(ItemKind.EVENT, 1),
        uid="series-1",
        start=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        end=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        recurrence=r.Recurrence(
            frequency=r.Frequency.WEEKLY,
            weekdays=r.Weekday.MONDAY,
            count=10,
            deleted=(date(2026, 3, 16),),
        ),
    )
    seed = {
        FolderKind.CONTACTS: [
            sample(ItemKind.CONTACT, 1),
            attrs.evolve(sample(ItemKind.CONTACT, 2), photo=r.Photo(data=b"\xff\xd8photo")),
            sample(ItemKind.DISTRIBUTION_LIST, 1),
        ],
        FolderKind.CALENDAR: [series, sample(ItemKind.EVENT, 2)],
        FolderKind.TASKS: [sample(ItemKind.TASK, 1)],
    }
    for kind, items in seed.items():
        results = ox.apply(folders[kind], [Create(x) for x in items])
        assert all(isinstance(x, Applied) for x in results), results
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    engine = SyncEngine(ox, vdir, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    first = engine.sync()
    assert first.b.created >= 6 and not first.errors  # the global address book too
    assert engine.sync().changed == 0  # stable: nothing bounces back
    path = tmp_path / "vdir" / "calendar" / "series-1.ics"
    path.write_text(
        path.read_text(encoding="utf-8").replace("SUMMARY:Réunion 1", "SUMMARY:Réunion déplacée"),
        encoding="utf-8",
    )
    edited = engine.sync()
    assert (edited.a.updated, edited.b.updated) == (1, 0)
    assert engine.sync().changed == 0
    calendar = folders[FolderKind.CALENDAR]
    ids = [ref.id for ref in ox.changes(calendar, None).changed]
    by_uid = {x.record.uid: x.record for x in ox.fetch(calendar, ids).values()}  # type: ignore[union-attr]
    assert by_uid["series-1"].summary == "Réunion déplacée"
    assert by_uid["series-1"].recurrence.deleted == (date(2026, 3, 16),)
