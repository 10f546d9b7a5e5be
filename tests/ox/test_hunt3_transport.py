"""Transport faults: requests httpcore refuses to send, answers cut or trickled."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from oxsync.adapters.ox import OXClient, OXStore
from oxsync.core.records import Attachment, Contact
from oxsync.core.store import Applied, Create, Failure, FailureKind
from oxsync.errors import ProtocolError, TransientError
from oxsync.testing.oxserver import Fault, OXTestServer
from tests.ox.conftest import CANARY


def test_a_header_value_httpcore_refuses_is_a_protocol_error(server: OXTestServer) -> None:
    # h11 refuses a header value with a newline (LocalProtocolError); it was translated
    # as a connection failure, TransientError, so the request was retried for ever
    client = OXClient(server.url, "alice", CANARY, timeout=5.0)
    folder = str(server.backend.default_folder("alice", "contact"))
    with pytest.raises(ProtocolError, match="no valid HTTP"):
        client.get_attachment(7, folder, "1\n2", "3")
    client.close()


def test_an_object_id_with_a_newline_fails_only_its_item(server: OXTestServer) -> None:
    # over real HTTP its files are asked for with the id in a header: the TransientError
    # escaped fetch() and failed the folder on every run
    store = OXStore(server.url, "alice", CANARY, timeout=5.0)
    folder = str(server.backend.default_folder("alice", "contact"))
    note = Attachment(filename="a.txt", content_type="text/plain", data=b"hi")
    done = store.apply(
        folder,
        [
            Create(Contact(uid="filed", last_name="F", attachments=(note,))),
            Create(Contact(uid="plain", last_name="P")),
        ],
    )
    assert all(isinstance(d, Applied) for d in done), done
    filed = done[0].id  # type: ignore[union-attr]
    with httpx.Client(base_url=server.url, auth=("alice", CANARY)) as raw:
        listing = raw.request(
            "PROPFIND",
            "/servlet/webdav.contacts",
            content=(
                '<D:propfind xmlns:D="DAV:" xmlns:ox="http://www.open-xchange.org"><D:prop>'
                f"<ox:folder_id>{folder}</ox:folder_id><ox:lastsync>0</ox:lastsync>"
                "<ox:objectmode>NEW_AND_MODIFIED</ox:objectmode></D:prop></D:propfind>"
            ).encode(),
        ).content
    body = listing.replace(
        f"<ox:object_id>{filed}</ox:object_id>".encode(), b"<ox:object_id>1\n2</ox:object_id>"
    )
    assert body != listing
    store.close()
    store = OXStore(server.url, "alice", CANARY, timeout=5.0)  # no file cached
    store.folders()
    server.faults.add(Fault(status=207, body=body, method="PROPFIND", path="contacts"))
    changes = store.changes(folder, None)
    got = store.fetch(folder, [ref.id for ref in changes.changed])
    assert isinstance(got["1\n2"], Failure) and got["1\n2"].kind is FailureKind.INVALID, got
    assert sum(not isinstance(v, Failure) for v in got.values()) == 1
    store.close()


def test_an_answer_trickling_in_is_given_up_after_the_deadline() -> None:
    # httpx's timeout is per read: a server sending a byte now and then kept a request
    # (and the sync) going for ever
    def trickle() -> Iterator[bytes]:
        for _ in range(40):
            time.sleep(0.02)
            yield b" "

    client = OXClient(
        "http://ox.test",
        "alice",
        CANARY,
        timeout=0.03,
        transport=httpx.MockTransport(lambda request: httpx.Response(207, content=trickle())),
    )
    started = time.monotonic()
    with pytest.raises(TransientError, match="still arriving"):
        client.request("PROPFIND", "contacts", b"<x/>")
    assert time.monotonic() - started < 0.6
    client.close()
