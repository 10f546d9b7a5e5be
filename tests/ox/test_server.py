"""The OX test server on its own, spoken to in raw WebDAV/XML (reference checklist)."""

from __future__ import annotations

import socket
import time

import pytest
from lxml import etree

from oxsync.adapters.ox import parse_document, parse_multistatus, registration_packet
from oxsync.mappings.ox_xml import OX_NS
from oxsync.testing.oxserver import OXApp, OXBackend, OXPermission, OXTestServer
from tests.ox.conftest import CANARY, http
from tests.ox.helpers import listing, propfind, proppatch, responses, statuses

OWNER = (128, 128, 128, 128, True)


def _contacts(backend: OXBackend, login: str = "alice") -> int:
    return backend.default_folder(login, "contact")


def _calendar(backend: OXBackend, login: str = "alice") -> int:
    return backend.default_folder(login, "calendar")


# ---------------------------------------------------------------------- auth


def test_wrong_or_empty_password_gets_401_with_basic_realm(app: OXApp) -> None:
    for password in ("wrong", ""):
        resp = propfind(http(app, "alice", password), "folders", lastsync=0)
        assert resp.status_code == 401
        assert resp.headers["WWW-Authenticate"].startswith('Basic realm="OX WebDAV"')


def test_login_is_case_insensitive_and_sets_sessionid_cookie(app: OXApp) -> None:
    client = http(app, "ALICE", CANARY)
    resp = propfind(client, "folders", lastsync=0)
    assert resp.status_code == 207
    session = resp.cookies["sessionid"]
    anonymous = http(app, "nobody", "x")
    anonymous.auth = None  # type: ignore[assignment]
    again = anonymous.request(
        "PROPFIND",
        "/servlet/webdav.folders",
        content=b"<a><D:prop xmlns:D='DAV:'/></a>",
        headers={"Cookie": f"sessionid={session}"},
    )
    assert again.status_code == 207


def test_user_without_module_gets_403(backend: OXBackend, app: OXApp) -> None:
    backend.add_user("dave", "pw", modules={"webdav", "contacts"})
    assert propfind(http(app, "dave", "pw"), "calendar", lastsync=0).status_code == 403
    backend.add_user("erin", "pw", modules={"calendar"})
    assert propfind(http(app, "erin", "pw"), "folders", lastsync=0).status_code == 403


def test_version_and_freebusy_need_no_auth(app: OXApp) -> None:
    client = http(app)
    client.auth = None  # type: ignore[assignment]
    resp = client.get("/servlet/webdav.version")
    assert resp.status_code == 200 and resp.text.strip() == "6.22.0-Rev1"
    assert resp.headers["content-type"] == "text/plain; charset=UTF-8"


# ---------------------------------------------------------------------- listing


def test_listing_order_is_delete_then_create_then_list(backend: OXBackend, app: OXApp) -> None:
    client = http(app)
    folder = _contacts(backend)
    made = [backend.save("alice", folder, {"last_name": f"N{i}"}) for i in range(3)]
    since = made[-1].last_modified
    backend.delete("alice", made[0].id)
    backend.save("alice", folder, {"last_name": "changed"}, object_id=made[1].id)
    got = statuses(
        propfind(
            client,
            "contacts",
            folder_id=folder,
            lastsync=since,
            objectmode="new_and_modified, deleted ,list",
        )
    )
    assert got == [("DELETE", str(made[0].id)), ("CREATE", str(made[1].id)), ("LIST", "0")]
    entries = listing(client, "contacts", folder, since)
    assert entries[0].status == 200 and entries[0].description == "OK"
    # a DELETE entry carries only object_id, last_modified and object_status
    assert sorted(c.tag.split("}")[1] for c in entries[0].prop) == [
        "last_modified",
        "object_id",
        "object_status",
    ]
    assert [i.text for i in entries[-1].prop.iter("{*}id")] == [str(made[1].id), str(made[2].id)]


def test_lastsync_without_objectmode_means_modified_and_deleted(
    backend: OXBackend, app: OXApp
) -> None:
    folder = _contacts(backend)
    obj = backend.save("alice", folder, {"last_name": "x"})
    backend.delete("alice", obj.id)
    got = statuses(propfind(http(app), "contacts", folder_id=folder, lastsync=0))
    assert got == [("DELETE", str(obj.id))]


def test_propfind_without_lastsync_or_object_id_is_400(backend: OXBackend, app: OXApp) -> None:
    resp = propfind(http(app), "contacts", folder_id=_contacts(backend))
    assert resp.status_code == 400


def test_single_object_and_missing_object(backend: OXBackend, app: OXApp) -> None:
    folder = _contacts(backend)
    obj = backend.save("alice", folder, {"last_name": "Solo"})
    (one,) = responses(propfind(http(app), "contacts", object_id=obj.id))
    assert one.text("last_name") == "Solo" and one.text("object_status") == "CREATE"
    (missing,) = responses(propfind(http(app), "contacts", object_id=99999))
    assert (missing.href, missing.status, missing.description) == (
        "0",
        404,
        "[1001] Object not found",
    )


def test_private_appointment_of_another_user_goes_out_as_delete(
    backend: OXBackend, app: OXApp
) -> None:
    folder = _calendar(backend, "bob")
    backend.share(
        folder, [OXPermission(3, False, *OWNER), OXPermission(2, False, 2, 4, 4, 4, False)]
    )
    public = backend.save("bob", folder, {"title": "Team", "start_date": 0, "end_date": 1000})
    private = backend.save(
        "bob",
        folder,
        {"title": "Doctor", "private_flag": "true", "start_date": 0, "end_date": 1000},
    )
    alice = http(app)
    got = statuses(
        propfind(
            alice, "calendar", folder_id=folder, lastsync=0, objectmode="NEW_AND_MODIFIED,DELETED"
        )
    )
    assert got == [("DELETE", str(private.id)), ("CREATE", str(public.id))]
    # without DELETED it is simply left out, and it cannot be fetched
    assert statuses(
        propfind(alice, "calendar", folder_id=folder, lastsync=0, objectmode="NEW_AND_MODIFIED")
    ) == [("CREATE", str(public.id))]
    (gone,) = responses(propfind(alice, "calendar", object_id=private.id))
    assert gone.status == 404
    # its owner sees it
    owner = statuses(
        propfind(
            http(app, "bob", "bob-pw"),
            "calendar",
            folder_id=folder,
            lastsync=0,
            objectmode="NEW_AND_MODIFIED",
        )
    )
    assert ("CREATE", str(private.id)) in owner


# ---------------------------------------------------------------------- proppatch


def test_batch_answers_in_order_and_echoes_client_id(backend: OXBackend, app: OXApp) -> None:
    folder = _contacts(backend)
    resp = proppatch(
        http(app),
        "contacts",
        {"client_id": "a", "folder_id": folder, "last_name": "One"},
        {"client_id": "b", "folder_id": folder, "object_id": 4242, "last_modified": 1},
        {"folder_id": folder, "last_name": "Three"},
        method="PUT",
    )
    got = responses(resp)
    assert [(r.status, r.code, r.text("client_id")) for r in got] == [
        (200, 1200, "a"),
        (404, 1001, "b"),
        (200, 1200, None),
    ]
    assert got[0].text("object_id") and got[0].text("last_modified")


def test_stale_last_modified_is_409_1000_and_missing_is_1004(
    backend: OXBackend, app: OXApp
) -> None:
    folder = _contacts(backend)
    obj = backend.save("alice", folder, {"last_name": "v1"})
    old = obj.last_modified
    backend.save("alice", folder, {"last_name": "v2"}, object_id=obj.id)
    (stale,) = responses(
        proppatch(
            http(app),
            "contacts",
            {"folder_id": folder, "object_id": obj.id, "last_modified": old, "last_name": "v3"},
        )
    )
    assert (stale.status, stale.description) == (
        409,
        "[1000] This object was modified on the server",
    )
    (missing,) = responses(
        proppatch(
            http(app), "contacts", {"folder_id": folder, "object_id": obj.id, "last_name": "v3"}
        )
    )
    assert (missing.status, missing.code) == (409, 1004)
    assert backend.objects[obj.id].text("last_name") == "v2"


def test_in_batch_last_modified_cache_lets_chained_edits_through(
    backend: OXBackend, app: OXApp
) -> None:
    folder = _contacts(backend)
    obj = backend.save("alice", folder, {"last_name": "v1"})
    sent = obj.last_modified
    got = responses(
        proppatch(
            http(app),
            "contacts",
            {"folder_id": folder, "object_id": obj.id, "last_modified": sent, "last_name": "v2"},
            {"folder_id": folder, "object_id": obj.id, "last_modified": sent, "first_name": "F"},
        )
    )
    assert [r.code for r in got] == [1200, 1200]
    # across requests the same stale timestamp conflicts
    (later,) = responses(
        proppatch(
            http(app),
            "contacts",
            {"folder_id": folder, "object_id": obj.id, "last_modified": sent, "note": "x"},
        )
    )
    assert later.code == 1000
    assert backend.objects[obj.id].text("first_name") == "F"


def test_empty_element_clears_and_move_leaves_a_tombstone(backend: OXBackend, app: OXApp) -> None:
    folder = _contacts(backend)
    other = backend.add_folder("alice", "Other", "contact").id
    obj = backend.save("alice", folder, {"last_name": "L", "note": "n"})
    (moved,) = responses(
        proppatch(
            http(app),
            "contacts",
            {
                "folder_id": folder,
                "object_id": obj.id,
                "last_modified": obj.last_modified,
                "folder": other,
                "note": "",
            },
        )
    )
    assert moved.code == 1200
    assert backend.objects[obj.id].folder == other and "note" not in backend.objects[obj.id].fields
    assert statuses(
        propfind(http(app), "contacts", folder_id=folder, lastsync=0, objectmode="DELETED")
    ) == [("DELETE", str(obj.id))]


def test_bad_xml_is_1400_and_nothing_is_written(backend: OXBackend, app: OXApp) -> None:
    folder = _contacts(backend)
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<D:propertyupdate xmlns:D="DAV:" xmlns:ox="http://www.open-xchange.org">'
        b"<D:set><D:prop><ox:client_id>c9</ox:client_id><ox:folder_id>"
        + str(folder).encode()
        + b"</ox:folder_id><ox:last_name>&b;</ox:last_name>"
        b"</D:prop></D:set></D:propertyupdate>"
    )
    for body in (bomb, b"<D:propertyupdate xmlns:D='DAV:'><unclosed>", b"\xff\xfe<x/>"):
        resp = http(app).request("PROPPATCH", "/servlet/webdav.contacts", content=body)
        (only,) = responses(resp)
        assert (only.href, only.status, only.code) == ("0", 400, 1400)
    assert only.text("client_id") == "not found"
    assert backend.objects_in(folder) == []


# ---------------------------------------------------------------------- permissions


def test_permission_levels_are_enforced(backend: OXBackend, app: OXApp) -> None:
    folder = backend.add_folder("bob", "Shared", "contact").id
    bobs = backend.save("bob", folder, {"last_name": "Bob's"})
    alice = http(app)
    assert propfind(alice, "contacts", folder_id=folder, lastsync=0).status_code == 403

    def grant(fp: int, rp: int, wp: int, dp: int) -> None:
        backend.share(
            folder, [OXPermission(3, False, *OWNER), OXPermission(2, False, fp, rp, wp, dp, False)]
        )

    grant(2, 4, 0, 0)  # reviewer: sees all, may not create or edit
    assert statuses(
        propfind(alice, "contacts", folder_id=folder, lastsync=0, objectmode="NEW_AND_MODIFIED")
    ) == [("CREATE", str(bobs.id))]
    (create,) = responses(proppatch(alice, "contacts", {"folder_id": folder, "last_name": "A"}))
    assert (create.status, create.code) == (403, 1002)
    bobs = backend.objects[bobs.id]
    (edit,) = responses(
        proppatch(
            alice,
            "contacts",
            {
                "folder_id": folder,
                "object_id": bobs.id,
                "last_modified": bobs.last_modified,
                "last_name": "hacked",
            },
        )
    )
    assert edit.code == 1002
    grant(4, 2, 2, 2)  # author-like on own objects only: bob's object is invisible
    (mine,) = responses(proppatch(alice, "contacts", {"folder_id": folder, "last_name": "A"}))
    assert mine.code == 1200
    assert statuses(
        propfind(alice, "contacts", folder_id=folder, lastsync=0, objectmode="NEW_AND_MODIFIED")
    ) == [("CREATE", mine.href)]
    grant(4, 4, 4, 4)  # editor
    (edit,) = responses(
        proppatch(
            alice,
            "contacts",
            {
                "folder_id": folder,
                "object_id": bobs.id,
                "last_modified": bobs.last_modified,
                "last_name": "edited",
            },
        )
    )
    assert edit.code == 1200


def test_folders_show_shared_under_3_and_hidden_folders_as_delete(
    backend: OXBackend, app: OXApp
) -> None:
    folder = backend.add_folder("bob", "Projects", "calendar")
    since = folder.last_modified
    backend.share(
        folder.id, [OXPermission(3, False, *OWNER), OXPermission(2, False, 2, 4, 0, 0, False)]
    )
    (entry,) = [r for r in responses(propfind(http(app), "folders", lastsync=since))]
    assert (entry.text("type"), entry.text("folder_id"), entry.text("owner")) == (
        "shared",
        "3",
        "3",
    )
    stamp = int(entry.text("last_modified") or 0)
    backend.share(folder.id, [OXPermission(3, False, *OWNER)])
    assert statuses(propfind(http(app), "folders", lastsync=stamp)) == [("DELETE", str(folder.id))]


def test_default_folder_cannot_be_deleted_and_rename_is_ignored(
    backend: OXBackend, app: OXApp
) -> None:
    folder = backend.folders[_contacts(backend)]
    got = responses(
        proppatch(
            http(app),
            "folders",
            {"object_id": folder.id, "last_modified": folder.last_modified, "title": "Renamed"},
            {"object_id": folder.id, "last_modified": 2**62, "method": "DELETE"},
        )
    )
    assert [r.code for r in got] == [1200, 1002]
    assert folder.title == "Contacts" and not folder.deleted
    (unbound,) = responses(
        proppatch(http(app), "folders", {"folder_id": 1, "title": "x", "module": "unbound"})
    )
    assert unbound.code == 1100


# ---------------------------------------------------------------------- calendar


def test_appointment_clash_is_1006_with_items_unless_ignored(
    backend: OXBackend, app: OXApp
) -> None:
    folder = _calendar(backend)
    backend.save("alice", folder, {"title": "Existing", "start_date": 1000, "end_date": 5000})
    block = {"folder_id": folder, "title": "New", "start_date": 2000, "end_date": 3000}
    (clash,) = responses(proppatch(http(app), "calendar", block))
    assert (clash.status, clash.description) == (409, "[1006] Appointments Conflicted")
    assert [(c.subject, c.start_ms, c.end_ms, c.full_time) for c in clash.conflicts] == [
        ("Existing", 1000, 5000, False)
    ]
    (ok,) = responses(proppatch(http(app), "calendar", {**block, "ignore_conflicts": "true"}))
    assert ok.code == 1200 and ok.text("recurrence_id") == "0"
    (free,) = responses(proppatch(http(app), "calendar", {**block, "shown_as": 4}))
    assert free.code == 1200


def test_booked_resource_clashes_even_with_ignore_conflicts(backend: OXBackend, app: OXApp) -> None:
    room = backend.add_resource("Room 1")
    inner = f'<ox:resource ox:external="false">{room.id}</ox:resource>'
    parts = etree.fromstring(f'<ox:participants xmlns:ox="{OX_NS}">{inner}</ox:participants>')
    backend.save(
        "bob", _calendar(backend, "bob"), {"title": "Bob's", "start_date": 0, "end_date": 10_000}
    )
    backend.save(
        "carol",
        _calendar(backend, "carol"),
        {"title": "Booked", "start_date": 0, "end_date": 10_000, "participants": parts},
    )
    (clash,) = responses(
        proppatch(
            http(app),
            "calendar",
            {
                "folder_id": _calendar(backend),
                "title": "Mine",
                "start_date": 100,
                "end_date": 200,
                "ignore_conflicts": "true",
                "participants": inner,
            },
        )
    )
    assert clash.code == 1006 and [c.subject for c in clash.conflicts] == ["Booked"]


def test_calendar_update_rules(backend: OXBackend, app: OXApp) -> None:
    folder = _calendar(backend)
    obj = backend.save(
        "alice",
        folder,
        {
            "title": "Weekly",
            "start_date": 0,
            "end_date": 1000,
            "recurrence_type": "weekly",
            "days": 2,
            "interval": 1,
            "until": 10**9,
            "alarm": 15,
            "alarm_flag": "true",
        },
    )
    assert {"recurrence_type", "until", "alarm"} <= set(obj.fields)
    (upd,) = responses(
        proppatch(
            http(app),
            "calendar",
            {
                "folder_id": folder,
                "object_id": obj.id,
                "last_modified": obj.last_modified,
                "title": "Renamed",
            },
        )
    )
    assert upd.code == 1200
    fields = backend.objects[obj.id].fields
    assert "recurrence_type" not in fields and "days" not in fields and "alarm" not in fields
    obj = backend.objects[obj.id]
    responses(
        proppatch(
            http(app),
            "calendar",
            {
                "folder_id": folder,
                "object_id": obj.id,
                "last_modified": obj.last_modified,
                "recurrence_type": "daily",
                "interval": 1,
            },
        )
    )
    assert "until" not in backend.objects[obj.id].fields  # no end given: unlimited series


def test_confirm_sets_the_users_status(backend: OXBackend, app: OXApp) -> None:
    folder = _calendar(backend, "bob")
    backend.share(
        folder, [OXPermission(3, False, *OWNER), OXPermission(2, False, 2, 4, 4, 0, False)]
    )
    obj = backend.save("bob", folder, {"title": "Meet", "start_date": 0, "end_date": 10})
    (resp,) = responses(
        proppatch(
            http(app),
            "calendar",
            {"folder_id": folder, "object_id": obj.id, "method": "confirm", "confirm": "accept"},
        )
    )
    assert resp.code == 1200
    (user,) = backend.objects[obj.id].fields["participants"]
    assert user.text == "2" and user.get("{http://www.open-xchange.org}confirm") == "accept"


# ---------------------------------------------------------------------- groupuser, free/busy


def test_groupuser_names_the_caller_and_lists_groups_and_resources(
    backend: OXBackend, app: OXApp
) -> None:
    backend.add_group("Staff", ["alice", "bob"])
    backend.add_resource("Beamer")
    (entry,) = responses(propfind(http(app), "groupuser", user="*", group="*", resource="*"))
    assert entry.description == "HTTP/1.1 200 OK"
    users = {u.findtext("{*}uid"): u for u in entry.prop.iter("{*}user")}
    assert users["2"].findtext("{*}myidentity") == "true"
    assert users["2"].findtext("{*}context_id") == "1"
    assert users["3"].findtext("{*}myidentity") is None
    assert users["2"].find("{*}email1").get("isInternal") == "true"
    group = next(entry.prop.iter("{*}group"))
    assert group.findtext("{*}objectstatus") == "CREATE"
    assert [m.text for m in group.iter("{*}memberuid")] == ["2", "3"]
    assert next(entry.prop.iter("{*}resource")).findtext("{*}displayname") == "Beamer"


def test_freebusy_writes_oxs_fbtypes(backend: OXBackend, app: OXApp) -> None:
    folder = _calendar(backend)
    day = 1_767_225_600_000  # 2026-01-01T00:00Z
    for i, shown in enumerate((1, 2, 3, 4)):
        backend.save(
            "alice",
            folder,
            {
                "title": f"s{shown}",
                "shown_as": shown,
                "start_date": day + i * 3_600_000,
                "end_date": day + i * 3_600_000 + 1_800_000,
            },
        )
    client = http(app)
    client.auth = None  # type: ignore[assignment]
    resp = client.get(
        "/servlet/webdav.freebusy",
        params={
            "contextid": "1",
            "username": "alice",
            "server": "example.org",
            "start": "20260101",
            "end": "20260102",
        },
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/calendar")
    lines = resp.text.split("\r\n")
    assert lines[:5] == [
        "BEGIN:VCALENDAR",
        "PRODID:-//www.open-xchange.org//",
        "VERSION:2.0",
        "METHOD:PUBLISH",
        "BEGIN:VFREEBUSY",
    ]
    assert "ORGANIZER:alice@example.org" in lines
    fb = [line for line in lines if line.startswith("FREEBUSY")]
    assert fb == [
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260101T000000Z/20260101T003000Z",
        "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260101T010000Z/20260101T013000Z",
        "FREEBUSY;FBTYPE=BUSY:20260101T020000Z/20260101T023000Z",
        "FREEBUSY;FBTYPE=FREE:20260101T030000Z/20260101T033000Z",
    ]
    missing = client.get(
        "/servlet/webdav.freebusy", params={"username": "alice", "server": "example.org"}
    )
    assert missing.status_code == 404


# ---------------------------------------------------------------------- push


def test_push_registration_ack_and_folder_packet_after_delay(backend: OXBackend) -> None:
    with OXTestServer(backend, push_delay=0.4) as server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(2.0)
        try:
            sock.sendto(b"garbage", server.push_address)
            sock.sendto(registration_packet(2, 1), server.push_address)
            assert sock.recvfrom(64)[0] == b"OK\x01"
            folder = backend.default_folder("alice", "contact")
            started = time.monotonic()
            for i in range(3):  # a burst is coalesced into one packet
                backend.save("alice", folder, {"last_name": f"p{i}"})
            assert sock.recvfrom(64)[0] == f"{folder}\x01".encode()
            assert time.monotonic() - started >= 0.39
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                sock.recvfrom(64)
        finally:
            sock.close()


def test_multistatus_wrapped_propertyupdate_is_accepted(backend: OXBackend, app: OXApp) -> None:
    folder = _contacts(backend)
    body = (
        f'<D:multistatus xmlns:D="DAV:" xmlns:ox="http://www.open-xchange.org">'
        f"<D:propertyupdate><D:set><D:prop><ox:folder_id>{folder}</ox:folder_id>"
        f"<ox:last_name>W</ox:last_name></D:prop></D:set></D:propertyupdate>"
        f"</D:multistatus>"
    ).encode()
    resp = http(app).request("PROPPATCH", "/servlet/webdav.contacts", content=body)
    (only,) = parse_multistatus(parse_document(resp.content))
    assert only.code == 1200


def test_list_entry_without_emailfield_and_unknown_participant_are_1100(
    backend: OXBackend, app: OXApp
) -> None:
    contacts, calendar = _contacts(backend), _calendar(backend)
    got = responses(
        proppatch(
            http(app),
            "contacts",
            {
                "folder_id": contacts,
                "distributionlist_flag": "true",
                "distributionlist": '<ox:email ox:displayname="x">a@b.c</ox:email>',
            },
        )
    )
    assert [r.code for r in got] == [1100]
    got = responses(
        proppatch(
            http(app),
            "calendar",
            {
                "folder_id": calendar,
                "title": "t",
                "start_date": 0,
                "end_date": 1,
                "participants": "<ox:robot>1</ox:robot>",
            },
        )
    )
    assert [r.code for r in got] == [1100]
    assert backend.objects_in(contacts) == [] and backend.objects_in(calendar) == []


def test_session_dies_when_the_client_address_changes(app: OXApp) -> None:
    import httpx

    first = propfind(http(app), "folders", lastsync=0)
    session = first.cookies["sessionid"]
    elsewhere = httpx.Client(
        transport=httpx.WSGITransport(app=app, remote_addr="10.9.8.7"), base_url="http://ox.test"
    )
    resp = elsewhere.request(
        "PROPFIND",
        "/servlet/webdav.folders",
        content=b"<a><D:prop xmlns:D='DAV:'/></a>",
        headers={"Cookie": f"sessionid={session}"},
    )
    assert resp.status_code == 401
    assert session not in app.sessions  # killed, also for the original address
