"""Hunt 2: attachments whose names are no Windows file name (OX allows any name)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oxsync.adapters.outlook import OutlookStore
from oxsync.core import records as r
from oxsync.core.records import FolderKind
from oxsync.core.store import Applied, Create, Item, Update
from oxsync.testing.outlook import Application, constants
from tests.outlook.helpers import default

# Windows refuses these in a file name (and names ending in a dot or a blank, device
# names, more than 255 characters); Outlook's Attachments.Add only takes a file path.
_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_DEVICES = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$", re.IGNORECASE)

NAMES = [
    "2024/report.pdf",
    r"scans\invoice.pdf",
    "a:b?*.txt",
    'say "hi" <now>|.txt',
    "CON.txt",
    "notes. ",
    "tab\there.txt",
    "é" * 200 + ".pdf",
    "x" * 300 + ".txt",
]


def _windows_safe(name: str) -> bool:
    return (
        bool(name)
        and not _FORBIDDEN.search(name)
        and not _DEVICES.match(name)
        and name[-1] not in ". "
        and len(name) <= 255
    )


@pytest.mark.parametrize("name", NAMES)
def test_odd_attachment_names_are_written_and_read_back(name: str) -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    folder = default(store, FolderKind.CONTACTS)
    attachment = r.Attachment(filename=name, content_type="application/pdf", data=b"%PDF")
    (done,) = store.apply(folder, [Create(r.Contact(last_name="A", attachments=(attachment,)))])
    assert isinstance(done, Applied), done
    (item,) = app.Session.GetDefaultFolder(constants.olFolderContacts).Items
    (att,) = item.Attachments
    assert _windows_safe(att.FileName), att.FileName
    got = store.fetch(folder, [done.id])[done.id]
    assert isinstance(got, Item)
    assert [a.filename for a in got.record.attachments] == [name]
    assert got.record.attachments[0].data == b"%PDF"
    # an update keeps it so (no change seen: the name read back is the one written)
    (again,) = store.apply(folder, [Update(done.id, got.record, got.version)])
    assert isinstance(again, Applied)
    back = store.fetch(folder, [done.id])[done.id]
    assert isinstance(back, Item) and back.record.attachments == got.record.attachments


def test_attachment_names_never_write_outside_the_temporary_folder(tmp_path: Path) -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    folder = default(store, FolderKind.TASKS)
    absolute = tmp_path / "absolute.txt"
    climbing = "../" * 12 + str(tmp_path / "climbing.txt").lstrip("/")
    task = r.Task(
        summary="T",
        attachments=tuple(
            r.Attachment(filename=n, content_type="text/plain", data=b"x")
            for n in (str(absolute), climbing)
        ),
    )
    (done,) = store.apply(folder, [Create(task)])
    assert isinstance(done, Applied), done
    assert list(tmp_path.iterdir()) == []
    got = store.fetch(folder, [done.id])[done.id]
    assert [a.filename for a in got.record.attachments] == [str(absolute), climbing]  # type: ignore[union-attr]
