"""Raw WebDAV/XML helpers for the server tests."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
from lxml import etree

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXResponse, OXStore, parse_document, parse_multistatus
from oxsync.core.records import FolderKind
from oxsync.errors import OxsyncError
from oxsync.testing.oxserver import OXApp, OXBackend, OXPermission

NS = 'xmlns:D="DAV:" xmlns:ox="http://www.open-xchange.org"'


def fields_xml(fields: dict[str, Any]) -> str:
    """``<ox:name>value</ox:name>`` for each field (raw XML values pass through)."""
    out = []
    for name, value in fields.items():
        text = "" if value is None else str(value)
        out.append(f"<ox:{name}>{text}</ox:{name}>")
    return "".join(out)


def propfind(client: httpx.Client, servlet: str, **fields: Any) -> httpx.Response:
    """PROPFIND with the given ox fields."""
    body = f"<D:propfind {NS}><D:prop>{fields_xml(fields)}</D:prop></D:propfind>"
    return client.request("PROPFIND", f"/servlet/webdav.{servlet}", content=body.encode())


def proppatch(
    client: httpx.Client, servlet: str, *blocks: dict[str, Any], method: str = "PROPPATCH"
) -> httpx.Response:
    """PROPPATCH (or PUT) with one D:set per block."""
    sets = "".join(f"<D:set><D:prop>{fields_xml(b)}</D:prop></D:set>" for b in blocks)
    body = f"<D:propertyupdate {NS}>{sets}</D:propertyupdate>"
    return client.request(method, f"/servlet/webdav.{servlet}", content=body.encode())


def responses(resp: httpx.Response) -> list[OXResponse]:
    """Parsed D:response entries of a 207 answer."""
    assert resp.status_code == 207, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"] == "text/xml; charset=UTF-8"
    return parse_multistatus(parse_document(resp.content))


def statuses(resp: httpx.Response) -> list[tuple[str | None, str]]:
    """(object_status, object_id or href) of each entry."""
    return [(r.text("object_status"), r.text("object_id") or r.href) for r in responses(resp)]


def listing(
    client: httpx.Client,
    servlet: str,
    folder: int,
    lastsync: int = 0,
    mode: str = "NEW_AND_MODIFIED,DELETED,LIST",
) -> list[OXResponse]:
    """A folder listing since ``lastsync``."""
    return responses(
        propfind(client, servlet, folder_id=folder, lastsync=lastsync, objectmode=mode)
    )


def raw(el: etree._Element) -> str:
    """Serialised element (for assertions)."""
    return etree.tostring(el, encoding="unicode")


def share_with_bob(backend: OXBackend, module: str) -> int:
    """alice's default ``module`` folder ("contact", "calendar"…), where bob may write."""
    folder = backend.default_folder("alice", module)
    backend.share(
        folder,
        [
            OXPermission(backend.user("alice").id, False, 128, 128, 128, 128, True),
            OXPermission(backend.user("bob").id, False, 4, 4, 4, 4, False),
        ],
    )
    return folder


def one_kind_engine(ox: OXStore, mem: MemoryStore, kind: FolderKind) -> SyncEngine:
    """The engine the mid-sync fault tests run: OX ⇄ memory, one folder kind, state in
    memory, newest wins, no retries or backoff (a fault shows at once)."""
    return SyncEngine(
        ox,
        mem,
        state=State(":memory:"),
        policy=Policy.NEWEST_WINS,
        backoff=0.0,
        retries=0,
        folder_kinds={kind},
    )


class Failing(httpx.BaseTransport):
    """The in-process server, with a fault on requests ``first`` .. ``first + count - 1``.

    ``before``: nothing reaches the server; ``*_after`` and ``truncated``, ``timeout``:
    the server does the work, the answer is lost, replaced or cut.
    """

    def __init__(self, app: OXApp) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.n = 0
        self.first = -1
        self.count = 0
        self.fault = "before"

    def arm(self, first: int, fault: str, count: int = 1) -> None:
        """Fault requests ``first`` .. ``first + count - 1``, counted from now."""
        self.n, self.first, self.count, self.fault = 0, first, count, fault

    def disarm(self) -> None:
        """No more faults: the server is back."""
        self.first = -1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.n += 1
        if not self.first <= self.n < self.first + self.count:
            return self.inner.handle_request(request)
        if self.fault == "before":
            raise httpx.ConnectError("connection refused", request=request)
        if self.fault == "503":
            return httpx.Response(503, content=b"<html>down</html>")
        response = self.inner.handle_request(request)
        body = response.read()
        if self.fault == "after":
            raise httpx.ReadError("connection reset by peer", request=request)
        if self.fault == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if self.fault == "502_after":
            return httpx.Response(502, content=b"<html>bad gateway</html>")
        if self.fault == "404_after":
            return httpx.Response(404, content=b"<html>not here</html>")
        if self.fault == "html_after":
            return httpx.Response(200, content=b"<html><body>login</body></html>")
        return httpx.Response(response.status_code, headers=response.headers, content=body[:-40])


def failing_ox(**store_options: Any) -> tuple[OXBackend, Failing, OXStore]:
    """A backend with alice, a :class:`Failing` transport to it and an OX store on that."""
    from tests.ox.conftest import CANARY

    backend = OXBackend()
    backend.add_user("alice", CANARY)
    transport = Failing(OXApp(backend))
    store = OXStore("http://ox.test", "alice", CANARY, transport=transport, **store_options)
    return backend, transport, store


def sync_through_fault(
    engine: SyncEngine, transport: Failing, first: int, fault: str, count: int = 1, runs: int = 2
) -> None:
    """One sync with the fault armed (its error reported, not raised here), then ``runs``
    syncs with the server back, each retrying what went on the ignored list."""
    transport.arm(first, fault, count)
    with contextlib.suppress(OxsyncError):  # reported, not lost
        engine.sync()
    transport.disarm()
    for _ in range(runs):
        engine.retry_ignored()
        engine.sync()
