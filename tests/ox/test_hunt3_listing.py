"""Listings OX answers in part: nothing they leave out may read as deleted.

A LIST entry whose ids cannot all be read, and a listing with an entry OX failed to
serialise (status 500, href 0: reference §2.2), are no evidence that an object is gone.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from oxsync import SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXStore
from oxsync.adapters.ox._codec import object_list, parse_document, parse_multistatus
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Failure, FailureKind
from oxsync.errors import OxsyncError
from oxsync.testing.oxserver import OXApp, OXBackend
from tests.ox.conftest import CANARY
from tests.ox.helpers import one_kind_engine
from tests.ox.test_fuzz_ox import _mutate

NS = "http://www.open-xchange.org"
Rewrite = Callable[[bytes], bytes]


class _Switchable(httpx.BaseTransport):
    """The in-process server; while ``rewrite`` is set, each answer body goes through it."""

    def __init__(self, app: OXApp) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.rewrite: Rewrite | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        body = answer.read()
        if self.rewrite is not None and body.startswith(b"<?xml"):
            body = self.rewrite(body)
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-length"]
        return httpx.Response(answer.status_code, headers=headers, content=body)


def _tree(rewrite: Callable[[etree._Element], None]) -> Rewrite:
    def apply(body: bytes) -> bytes:
        root = etree.fromstring(body)
        rewrite(root)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    return apply


def _lists(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(f"{{{NS}}}object_list"))


def _no_object_list(root: etree._Element) -> None:
    for holder in _lists(root):
        holder.getparent().remove(holder)


def _nested_in_first_id(root: etree._Element) -> None:
    for holder in _lists(root):
        etree.SubElement(holder[0], f"{{{NS}}}x")


def _first_id_empty(root: etree._Element) -> None:
    for holder in _lists(root):
        holder[0].text = None


def _first_id_blank(root: etree._Element) -> None:
    for holder in _lists(root):
        holder[0].text = " "


def _second_short_list(root: etree._Element) -> None:
    for holder in _lists(root):
        response = holder.getparent().getparent().getparent()
        short = copy.deepcopy(response)
        short_list = next(short.iter(f"{{{NS}}}object_list"))
        del short_list[:]
        root.append(short)


LIST_DAMAGE = {
    "no object_list": _no_object_list,
    "an id holding an element": _nested_in_first_id,
    "an empty id": _first_id_empty,
    "a blank id": _first_id_blank,
    "a second, empty LIST": _second_short_list,
}


def _three_contacts() -> tuple[OXBackend, _Switchable, OXStore, MemoryStore, SyncEngine]:
    backend = OXBackend()
    backend.add_user("alice", CANARY)
    transport = _Switchable(OXApp(backend))
    ox = OXStore("http://ox.test", "alice", CANARY, transport=transport, list_every=0)
    mem = MemoryStore()
    for i in range(3):
        mem.put("contacts", Contact(uid=f"c{i}", last_name=f"C{i}"))
    engine = one_kind_engine(ox, mem, FolderKind.CONTACTS)
    engine.sync()
    engine.sync()  # the echo of the creates: from now on deltas are empty
    return backend, transport, ox, mem, engine


def _uids(mem: MemoryStore) -> list[str]:
    return sorted(r.uid or "" for r in mem.records("contacts").values())


@pytest.mark.parametrize("damage", LIST_DAMAGE.values(), ids=LIST_DAMAGE.keys())
def test_a_list_entry_read_in_part_deletes_nothing(
    damage: Callable[[etree._Element], None],
) -> None:
    # a LIST without object_list read as an empty folder, an id that was no plain text
    # was left out: every object (or that one) was reported deleted and the engine
    # deleted it in the other store
    backend, transport, ox, mem, engine = _three_contacts()
    assert _uids(mem) == ["c0", "c1", "c2"]
    transport.rewrite = _tree(damage)
    report = engine.sync()
    assert report.b.deleted == 0 and report.a.deleted == 0, report
    assert _uids(mem) == ["c0", "c1", "c2"]
    # and once OX answers properly, a real deletion still arrives through the LIST
    transport.rewrite = None
    folder = backend.default_folder("alice", "contact")
    backend.delete("alice", next(o.id for o in backend.objects_in(folder) if o.text("uid") == "c1"))
    backend.tombstones.clear()  # forgotten: only the LIST tells
    engine.sync()
    assert _uids(mem) == ["c0", "c2"]
    ox.close()


def _list_entry(ids: str) -> bytes:
    return (
        f'<D:multistatus xmlns:D="DAV:" xmlns:ox="{NS}"><D:response><D:href>0</D:href>'
        "<D:propstat><D:prop><ox:object_status>LIST</ox:object_status>"
        f"<ox:object_list>{ids}</ox:object_list></D:prop><D:status>200</D:status>"
        "</D:propstat></D:response></D:multistatus>"
    ).encode()


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ("<ox:id>1</ox:id><ox:id> 2\n</ox:id>", ["1", "2"]),
        ("", []),
        ("<id xmlns='http://www.open-xchange.org'>7</id>", ["7"]),
        ("<ox:id a='>'>3</ox:id>", ["3"]),
        ("<ox:id>1 2</ox:id>", ["1 2"]),  # as child_text reads an object_id
        ("<ox:id>a&amp;b</ox:id>", ["a&b"]),
        ("<ox:id>1</ox:id><ox:id/>", None),
        ("<ox:id>1</ox:id><ox:id a='1'/>9", None),
        ("<ox:id>1<ox:b/></ox:id>", None),
        ("<ox:id><!-- x --></ox:id>", None),
    ],
)
def test_list_ids_are_read_whole_or_not_at_all(ids: str, expected: list[str] | None) -> None:
    (resp,) = parse_multistatus(parse_document(_list_entry(ids)))
    found = object_list(resp)
    assert (None if found is None else list(found)) == expected


def _failed_entry(victim: str, element: str = "uid") -> Rewrite:
    """OX failed to serialise the entry whose ``element`` (an object's uid, a folder's
    title) reads ``victim``: a 500 entry with href 0 in its place (reference §2.2)."""

    def damage(root: etree._Element) -> None:
        for response in root:
            if response.findtext(f".//{{{NS}}}{element}") == victim:
                response[:] = etree.fromstring(
                    '<D:x xmlns:D="DAV:"><D:href>0</D:href><D:propstat><D:prop/>'
                    "<D:status>500</D:status><D:responsedescription>Server Error: "
                    "SQL</D:responsedescription></D:propstat></D:x>"
                )[:]

    return _tree(damage)


def test_an_object_ox_failed_to_list_is_not_deleted_by_a_full_listing() -> None:
    # a full listing is complete by definition (anything not listed is gone): one object
    # OX could not serialise was deleted in the other store on a slow sync
    _, transport, ox, mem, engine = _three_contacts()
    transport.rewrite = _failed_entry("c1")
    report = engine.slow_sync()
    assert report.b.deleted == 0, report
    assert _uids(mem) == ["c0", "c1", "c2"]
    transport.rewrite = None
    engine.sync()
    assert _uids(mem) == ["c0", "c1", "c2"]
    ox.close()


def test_a_change_ox_failed_to_list_arrives_later() -> None:
    # the cursor moved past the object that OX could not serialise: its change was lost
    backend, transport, ox, mem, engine = _three_contacts()
    folder = backend.default_folder("alice", "contact")
    c1 = next(o.id for o in backend.objects_in(folder) if o.text("uid") == "c1")
    c2 = next(o.id for o in backend.objects_in(folder) if o.text("uid") == "c2")
    backend.save("alice", folder, {"last_name": "Edited"}, object_id=c1)
    backend.save("alice", folder, {"last_name": "Later"}, object_id=c2)  # a newer stamp
    transport.rewrite = _failed_entry("c1")
    engine.sync()
    transport.rewrite = None
    engine.sync()
    names = {r.uid: r.last_name for r in mem.records("contacts").values()}  # type: ignore[attr-defined]
    assert names == {"c0": "C0", "c1": "Edited", "c2": "Later"}
    ox.close()


def test_a_failed_entry_naming_its_object_fails_that_item() -> None:
    backend, transport, ox, _, _ = _three_contacts()
    folder = str(backend.default_folder("alice", "contact"))
    victim = next(o.id for o in backend.objects_in(int(folder)) if o.text("uid") == "c1")

    def damage(root: etree._Element) -> None:
        for response in root:
            if response.findtext(f".//{{{NS}}}uid") == "c1":
                next(response.iter("{DAV:}status")).text = "500"

    transport.rewrite = _tree(damage)
    changes = ox.changes(folder, None)
    assert changes.full  # the object is listed, as failed
    got = ox.fetch(folder, [ref.id for ref in changes.changed])
    assert sorted(got) == sorted(str(o.id) for o in backend.objects_in(int(folder)))
    assert isinstance(got[str(victim)], Failure)
    assert got[str(victim)].kind is FailureKind.TRANSIENT
    ox.close()


def test_the_test_server_lists_ids_as_the_store_reads_them() -> None:
    backend = OXBackend()
    backend.add_user("alice", CANARY)
    folder = backend.default_folder("alice", "contact")
    for i in range(3):
        backend.save("alice", folder, {"last_name": f"n{i}"})
    with httpx.Client(
        transport=httpx.WSGITransport(app=OXApp(backend)),
        base_url="http://ox.test",
        auth=("alice", CANARY),
    ) as client:
        body = (
            f'<D:propfind xmlns:D="DAV:" xmlns:ox="{NS}"><D:prop><ox:folder_id>{folder}'
            "</ox:folder_id><ox:lastsync>0</ox:lastsync><ox:objectmode>LIST</ox:objectmode>"
            "</D:prop></D:propfind>"
        )
        answer = client.request("PROPFIND", "/servlet/webdav.contacts", content=body.encode())
    (entry,) = [r for r in parse_multistatus(parse_document(answer.content)) if r.href == "0"]
    assert sorted(object_list(entry) or []) == sorted(str(o.id) for o in backend.objects_in(folder))
    assert re.search(rb"<ox:id>\d+</ox:id>", answer.content)


def _twice(root: etree._Element) -> None:
    for response in list(root):
        if response.findtext(f".//{{{NS}}}object_status") == "CREATE":
            root.append(copy.deepcopy(response))


def _twice_second_unreadable(root: etree._Element) -> None:
    for response in list(root):
        if response.findtext(f".//{{{NS}}}object_status") == "CREATE":
            again = copy.deepcopy(response)
            next(again.iter(f"{{{NS}}}last_modified")).text = "yesterday"
            root.append(again)


@pytest.mark.parametrize("damage", [_twice, _twice_second_unreadable])
def test_an_object_listed_twice_is_one_change(damage: Callable[[etree._Element], None]) -> None:
    # changes() named it twice (fetch answered once, so the store protocol's "one
    # answer per id" did not hold)
    backend, transport, ox, _, _ = _three_contacts()
    folder = str(backend.default_folder("alice", "contact"))
    transport.rewrite = _tree(damage)
    changes = ox.changes(folder, None)
    ids = [ref.id for ref in changes.changed]
    assert len(ids) == len(set(ids)) == 3, changes
    got = ox.fetch(folder, ids)
    assert sorted(got) == sorted(ids)
    unreadable = damage is _twice_second_unreadable
    assert all(isinstance(v, Failure) is unreadable for v in got.values()), got
    ox.close()


def _first_without_id(root: etree._Element) -> None:
    for response in root:
        if response.findtext(f".//{{{NS}}}uid") in ("c0", "c1"):
            next(response.iter("{DAV:}href")).text = "0"
            holder = next(response.iter(f"{{{NS}}}object_id"))
            holder.getparent().remove(holder)


def test_objects_listed_without_an_id_make_the_listing_incomplete() -> None:
    # two CREATE entries without object_id (href 0) were one item "0": one of them was
    # dropped silently, and a full listing without the others' ids deleted them
    backend, transport, ox, mem, engine = _three_contacts()
    folder = str(backend.default_folder("alice", "contact"))
    transport.rewrite = _tree(_first_without_id)
    changes = ox.changes(folder, None)
    assert "0" not in [ref.id for ref in changes.changed]
    assert not changes.full and changes.cursor is None
    report = engine.slow_sync()
    assert report.b.deleted == 0, report
    assert _uids(mem) == ["c0", "c1", "c2"]
    ox.close()


def _may_delete(body: bytes, known: set[str]) -> set[str]:
    """What an answer says is gone, read independently of the store: its DELETE
    entries, and when every LIST entry reads whole (an object_list whose ids are all
    plain, non-empty texts), the known ids none of them names."""
    gone: set[str] = set()
    present: set[str] = set()
    lists = 0
    readable = True
    for resp in parse_multistatus(parse_document(body)):
        if not resp.ok:
            continue
        status = resp.text("object_status")
        if status == "DELETE":
            gone.add(resp.text("object_id") or resp.href)
        elif status == "LIST":
            lists += 1
            holders = list(resp.prop.iterchildren("{*}object_list"))
            readable = readable and bool(holders)
            for holder in holders:
                for el in holder.iter("{*}id"):
                    text = (el.text or "").strip()
                    readable = readable and len(el) == 0 and bool(text)
                    present.add(text)
    return gone | (known - present if lists and readable else set())


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_spoilt_delta_deletes_only_what_it_names_deleted(data: st.DataObject) -> None:
    # the property behind the LIST fixes: whatever the damage, only what the answer
    # says is gone (a DELETE entry, or an id a wholly readable LIST leaves out) is
    # reported deleted
    backend = OXBackend()
    backend.add_user("alice", CANARY)
    folder = backend.default_folder("alice", "contact")
    for i in range(4):
        backend.save("alice", folder, {"uid": f"c{i}", "last_name": f"C{i}"})
    transport = _Switchable(OXApp(backend))
    ox = OXStore("http://ox.test", "alice", CANARY, transport=transport, list_every=0)
    first = ox.changes(str(folder), None)
    backend.delete("alice", backend.objects_in(folder)[0].id)
    seen: list[bytes] = []

    def spoil(body: bytes) -> bytes:
        root = etree.fromstring(body)
        _mutate(data, root)
        out = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        seen.append(out)
        return out

    transport.rewrite = spoil
    try:
        changes = ox.changes(str(folder), first.cursor)
    except OxsyncError:
        return
    finally:
        ox.close()
    (answer,) = seen
    known = {ref.id for ref in first.changed}
    assert set(changes.deleted) <= _may_delete(answer, known), (changes, answer)
