"""File and folder names a vdir may hold that are no valid item ids: names that are not
UTF-8 (written by a tool running under a Latin-1 locale, copied from an old disk)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import attrs
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import ItemKind
from oxsync.core.store import Applied, Create, Item
from oxsync.testing.samples import sample


def test_names_that_are_not_utf8_are_skipped_with_a_warning(tmp_path: Path) -> None:
    """Such a name came out of the listing as a str with lone surrogates: the state
    database cannot store it, and the sync crashed with a bare UnicodeEncodeError, for
    every folder of the pair. They are now passed over with a warning that names them
    (printably), and the rest syncs."""
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    results = vdir.apply(
        "contacts", [Create(sample(ItemKind.CONTACT, 1)), Create(sample(ItemKind.CONTACT, 2))]
    )
    assert all(isinstance(r, Applied) for r in results)
    contacts = os.fsencode(tmp_path / "vdir" / "contacts")
    os.rename(
        os.path.join(contacts, b"oxsync-sample-contact-2.vcf"),
        os.path.join(contacts, b"caf\xe9.vcf"),
    )
    latin1_folder = os.path.join(os.fsencode(tmp_path / "vdir"), b"f\xfcr")
    os.mkdir(latin1_folder)
    card = (tmp_path / "vdir" / "contacts" / "oxsync-sample-contact-1.vcf").read_bytes()
    with open(os.path.join(latin1_folder, b"x.vcf"), "wb") as handle:
        handle.write(card.replace(b"oxsync-sample-contact-1", b"other"))
    memory = MemoryStore(name="memory")
    engine = SyncEngine(memory, vdir, state=State(tmp_path / "state.db"), policy=Policy.A_WINS)
    report = engine.sync()
    assert not report.errors
    assert [r.uid for r in memory.records("contacts").values()] == ["oxsync-sample-contact-1"]
    assert sorted(f.id for f in memory.folders()) == sorted(f.id for f in vdir.folders())
    assert len(report.warnings) == 2
    assert any("caf\\xe9.vcf" in w and "UTF-8" in w for w in report.warnings)
    assert any("f\\xfcr" in w and "UTF-8" in w for w in report.warnings)
    for warning in report.warnings:
        warning.encode("utf-8")  # printable
    again = engine.sync()
    assert again.changed == 0 and not again.errors
    assert os.path.exists(os.path.join(contacts, b"caf\xe9.vcf"))  # left alone


@pytest.mark.parametrize("uid", ["CON", "nul", "Aux.1", "com1", "LPT9", "prn.x.y"])
def test_a_uid_that_is_a_windows_device_name_gets_a_random_file_name(
    tmp_path: Path, uid: str
) -> None:
    """``CON.vcf``, ``nul.vcf``… name a device on Windows, not a file: a vdir shared with a
    Windows machine (Syncthing, a network drive) cannot hold them, and writing one there
    writes to the device. Such a uid now gets a random file name, as an unsafe one does."""
    store = VdirStore(tmp_path, fsync=False)
    record = attrs.evolve(sample(ItemKind.CONTACT, 1), uid=uid)
    (created,) = store.apply("contacts", [Create(record)])
    assert isinstance(created, Applied)
    assert created.id.split(".")[0].upper() != uid.split(".")[0].upper()
    assert re.fullmatch(r"[0-9a-f]{32}\.vcf", created.id)
    got = store.fetch("contacts", [created.id])[created.id]
    assert isinstance(got, Item) and got.record.uid == uid


@pytest.mark.parametrize("uid", ["con-x", "console", "com10", "nuL1", "lpt"])
def test_uids_that_only_look_like_device_names_keep_their_file_name(
    tmp_path: Path, uid: str
) -> None:
    store = VdirStore(tmp_path, fsync=False)
    record = attrs.evolve(sample(ItemKind.CONTACT, 1), uid=uid)
    (created,) = store.apply("contacts", [Create(record)])
    assert isinstance(created, Applied) and created.id == f"{uid}.vcf"
