"""Raw WebDAV/XML helpers for the server tests."""

from __future__ import annotations

from typing import Any

import httpx
from lxml import etree

from oxsync.adapters.ox import OXResponse, parse_document, parse_multistatus
from oxsync.testing.oxserver import OXBackend, OXPermission

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
