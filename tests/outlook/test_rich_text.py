"""Rich-text notes: ``note_html`` <-> ``HTMLBody`` (read while ``BodyFormat`` is HTML)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.outlook import OutlookStore
from oxsync.adapters.ox import OXStore
from oxsync.core import records as r
from oxsync.core.records import FolderKind
from oxsync.core.store import Create, Update
from oxsync.testing.outlook import Application, _items, constants
from tests.outlook.helpers import default

HTML = "<html><body><p><b>Bold</b> note &amp; more</p><p>Second line</p></body></html>"


def by_uid(store: Any, folder: str, uid: str) -> tuple[str, Any]:
    """(id, item) of the record with ``uid``, through a full listing."""
    ids = [ref.id for ref in store.changes(folder, None).changed]
    return next((i, item) for i, item in store.fetch(folder, ids).items() if item.record.uid == uid)


def outlook_item(app: Application, store: OutlookStore, folder: str, key: str) -> Any:
    return app.Session.GetItemFromID(store._entries[folder][key].entry_id)


def test_html_note_is_written_as_html_body_and_read_back() -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    folder = default(store, FolderKind.CONTACTS)
    contact = r.Contact(uid="rich-1", last_name="Curie", note="ignored", note_html=HTML)
    (applied,) = store.apply(folder, [Create(contact)])
    item = outlook_item(app, store, folder, applied.id)
    assert item.BodyFormat == constants.olFormatHTML and item.HTMLBody == HTML
    assert item.Body == "Bold note & more\r\nSecond line"  # Outlook derives the plain text
    got = store.fetch(folder, [applied.id])[applied.id].record
    assert got.note_html == HTML and got.note == "Bold note & more\nSecond line"


def test_a_plain_or_rtf_body_reads_as_no_html() -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    folder = default(store, FolderKind.CONTACTS)
    (applied,) = store.apply(folder, [Create(r.Contact(uid="plain-1", note="just text"))])
    item = outlook_item(app, store, folder, applied.id)
    assert item.BodyFormat == constants.olFormatPlain
    assert store.fetch(folder, [applied.id])[applied.id].record.note_html is None
    item.RTFBody = b"{\\rtf1 {\\b just} text}"  # the user formats it as rich text
    item.Save()
    assert item.BodyFormat == constants.olFormatRichText
    got = store.fetch(folder, [applied.id])[applied.id].record
    assert got.note_html is None and got.note == "just text"


def test_writing_the_same_html_again_leaves_the_body_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    folder = default(store, FolderKind.CONTACTS)
    contact = r.Contact(uid="rich-2", last_name="Curie", note_html=HTML)
    (applied,) = store.apply(folder, [Create(contact)])
    (ref,) = store.changes(folder, None).changed
    writes: list[str] = []
    real = _items.text_of_html  # the fake derives Body on every HTMLBody write
    monkeypatch.setattr(_items, "text_of_html", lambda html: writes.append(html) or real(html))
    store.apply(folder, [Update(ref.id, attrs.evolve(contact, nickname="Marie"), ref.version)])
    item = outlook_item(app, store, folder, applied.id)
    assert item.NickName == "Marie" and item.HTMLBody == HTML
    assert writes == []  # compared, not rewritten
    store.apply(folder, [Update(ref.id, attrs.evolve(contact, note_html="<p>new</p>"), None)])
    assert writes == ["<p>new</p>"]


def _synced_html_contact(ox: OXStore) -> tuple[Application, OutlookStore, SyncEngine, str]:
    """An HTML-noted contact made in Outlook (by the user) and synced to OX."""
    app = Application(tz="Europe/Paris", list_separator=";")
    outlook = OutlookStore(app)
    engine = SyncEngine(
        outlook,
        ox,
        state=State(":memory:"),
        policy=Policy.NEWEST_WINS,
        backoff=0.0,
        folder_kinds={FolderKind.CONTACTS},
    )
    item = app.Session.GetDefaultFolder(constants.olFolderContacts).Items.Add(
        constants.olContactItem
    )
    item.LastName = "Curie"
    item.HTMLBody = HTML  # formatted in Outlook's editor
    item.Save()
    engine.sync()
    assert not engine.ignored(), [i.reason for i in engine.ignored()]
    return app, outlook, engine, str(item.EntryID)


def test_an_ox_edit_of_another_field_keeps_the_outlook_html(ox: OXStore) -> None:
    app, outlook, engine, _ = _synced_html_contact(ox)
    folder = default(ox, FolderKind.CONTACTS)
    ids = [ref.id for ref in ox.changes(folder, None).changed]
    ((ox_id, on_ox),) = ox.fetch(folder, ids).items()
    assert on_ox.record.note == "Bold note & more\nSecond line"  # OX holds the plain text
    edited = attrs.evolve(on_ox.record, job_title="Physicist")
    (result,) = ox.apply(folder, [Update(ox_id, edited, on_ox.version)])
    assert type(result).__name__ == "Applied", result
    engine.sync()
    outlook_folder = default(outlook, FolderKind.CONTACTS)
    _, back = by_uid(outlook, outlook_folder, on_ox.record.uid)
    assert back.record.job_title == "Physicist"
    assert back.record.note_html == HTML
    item = outlook_item(app, outlook, outlook_folder, _)
    assert item.BodyFormat == constants.olFormatHTML and "<b>Bold</b>" in item.HTMLBody


def test_an_ox_edit_of_the_note_replaces_the_outlook_html(ox: OXStore) -> None:
    app, outlook, engine, _ = _synced_html_contact(ox)
    folder = default(ox, FolderKind.CONTACTS)
    ids = [ref.id for ref in ox.changes(folder, None).changed]
    ((ox_id, on_ox),) = ox.fetch(folder, ids).items()
    edited = attrs.evolve(on_ox.record, note="Rewritten on OX")
    (result,) = ox.apply(folder, [Update(ox_id, edited, on_ox.version)])
    assert type(result).__name__ == "Applied", result
    engine.sync()
    outlook_folder = default(outlook, FolderKind.CONTACTS)
    key, back = by_uid(outlook, outlook_folder, on_ox.record.uid)
    # the stale HTML is dropped, not restored over the new text
    assert back.record.note == "Rewritten on OX" and back.record.note_html is None
    item = outlook_item(app, outlook, outlook_folder, key)
    assert item.BodyFormat == constants.olFormatPlain and item.Body == "Rewritten on OX"
