"""The HTTP face of the test server: a WSGI application speaking OX WebDAV/XML.

Usable in-process (``httpx.WSGITransport(app=OXApp(backend))``) or behind the loopback
server of :class:`oxsync.testing.oxserver.OXTestServer`. It follows the checklist of
``shared/reference/ox-webdav-xml.md``: Basic auth then the ``sessionid`` cookie, 207
multistatus answers, DELETE/CREATE/LIST order, OLD numeric codes, ``[1400]`` for bad XML.
"""

from __future__ import annotations

import base64
import binascii
import collections
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

from attrs import define

from oxsync.mappings.values import ascii_int
from oxsync.testing.oxserver._backend import OXBackend
from oxsync.testing.oxserver._model import FOLDER_MODULES, OXFolder, OXObject, OXUser
from oxsync.testing.oxserver._rules import LastModifiedCache, OXFault
from oxsync.testing.oxserver._xml import (
    MAX_REQUEST_BYTES,
    OX,
    OX_NS,
    BadXML,
    D,
    Element,
    first,
    int_of,
    local,
    multistatus,
    ox_fields,
    parse,
    response,
    serialise,
    sub,
    text_of,
)

__all__ = ["Fault", "Faults", "OXApp"]

StartResponse = Callable[..., Any]
_XML = "text/xml; charset=UTF-8"
_SERVLETS = (
    "folders",
    "calendar",
    "contacts",
    "tasks",
    "groupuser",
    "attachments",
    "freebusy",
    "version",
    "ical",
    "vcard",
)
_CLIENT_ID = re.compile(rb"client_id[^>]*>([^<]{0,200})<")
_FRAGMENT_TAIL = (
    b"</D:prop><D:status>200</D:status><D:responsedescription>OK</D:responsedescription>"
    b"</D:propstat></D:response>"
)
_FBTYPE = {3: "BUSY", 1: "BUSY-TENTATIVE", 2: "BUSY-UNAVAILABLE", 4: "FREE"}


@define
class Fault:
    """One injected fault: an HTTP ``status``, a raw ``body``, or a ``truncate``d answer."""

    status: int = 500
    body: bytes | None = None
    content_type: str = _XML
    truncate: bool = False
    path: str | None = None  # only requests whose path contains this
    method: str | None = None  # only requests with this method (PROPFIND, PROPPATCH...)


class Faults:
    """Fault knobs of an :class:`OXApp`: queued faults and a per-request delay."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: collections.deque[Fault] = collections.deque()
        self.delay = 0.0

    def add(self, fault: Fault, count: int = 1) -> None:
        """Answer the next ``count`` matching requests with ``fault``."""
        with self._lock:
            self._queue.extend([fault] * count)

    def take(self, path: str, method: str = "GET") -> Fault | None:
        """The next fault for a ``method`` request to ``path``, if any."""
        with self._lock:
            for fault in self._queue:
                if (fault.path is None or fault.path in path) and (
                    fault.method is None or fault.method == method
                ):
                    self._queue.remove(fault)
                    return fault
            return None

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._queue.clear()


class OXApp:
    """WSGI application of the test server over an :class:`OXBackend`."""

    def __init__(self, backend: OXBackend, faults: Faults | None = None) -> None:
        self.backend = backend
        self.faults = faults or Faults()
        self.sessions: dict[str, tuple[int, str]] = {}
        self.requests = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        self.requests += 1
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_REQUEST_BYTES:
            return _plain(start_response, 413, "Request Entity Too Large")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        if self.faults.delay:
            time.sleep(min(self.faults.delay, 30.0))
        fault = self.faults.take(path, method)
        if fault is not None and not fault.truncate:
            if fault.body is None:
                return _plain(start_response, fault.status, "Injected fault")
            return _send(start_response, fault.status, fault.body, fault.content_type)
        result = self._route(environ, path, method, body, start_response)
        if fault is not None:
            return _truncated(result)
        return result

    # ------------------------------------------------------------------ routing

    def _route(
        self,
        environ: dict[str, Any],
        path: str,
        method: str,
        body: bytes,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        name = path.removeprefix("/servlet/webdav.") if path.startswith("/servlet/webdav.") else ""
        if name not in _SERVLETS:
            return _plain(start_response, 404, "Not Found")
        if name == "version":
            return _send(
                start_response,
                200,
                (self.backend.version + "\n").encode(),
                "text/plain; charset=UTF-8",
            )
        if name == "freebusy":
            return self._freebusy(environ, start_response)
        user, cookie = self._authenticate(environ)
        if user is None:
            return _send(
                start_response,
                401,
                b"Authorization Required!",
                "text/plain; charset=UTF-8",
                [("WWW-Authenticate", 'Basic realm="OX WebDAV", encoding="UTF-8"')],
            )
        extra = [("Set-Cookie", f"sessionid={cookie}; Path=/")] if cookie else []
        module = {"calendar": "calendar", "contacts": "contacts", "tasks": "tasks"}.get(name)
        if "webdav" not in user.modules or (module and module not in user.modules):
            return _plain(start_response, 403, "No Permission", extra)
        if name == "attachments":
            return self._attachments(environ, user, method, body, start_response, extra)
        if name in ("ical", "vcard"):
            return _plain(start_response, 501, "Not Implemented", extra)
        if method == "PUT":
            method = "PROPPATCH"  # OX: doPut calls doPropPatch
        if method not in ("PROPFIND", "PROPPATCH") or (
            name == "groupuser" and method != "PROPFIND"
        ):
            return _plain(start_response, 405, "Method Not Allowed", extra)
        if method == "PROPPATCH":
            payload = self._proppatch(user, name, body)
            return _send(start_response, 207, payload, _XML, extra)
        try:
            root = parse(body)
        except BadXML:
            return _plain(start_response, 400, "XML ERROR", extra)
        prop = first(root, "prop")
        if prop is None:
            return _plain(start_response, 400, "expected element: prop", extra)
        try:
            if name == "groupuser":
                payload = self._groupuser(user, ox_fields(prop))
            elif name == "folders":
                payload = self._folder_propfind(user, ox_fields(prop))
            else:
                payload = self._object_propfind(user, name, ox_fields(prop))
        except _HTTPError as exc:
            return _plain(start_response, exc.status, exc.text, extra)
        except OXFault as exc:
            return _plain(start_response, exc.status, f"Conflict: {exc.text}", extra)
        return _send(start_response, 207, payload, _XML, extra)

    def _authenticate(self, environ: dict[str, Any]) -> tuple[OXUser | None, str | None]:
        remote = environ.get("REMOTE_ADDR", "")
        for part in environ.get("HTTP_COOKIE", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == "sessionid" and value in self.sessions:
                user_id, address = self.sessions[value]
                if address == remote and user_id in self.backend.users:
                    return self.backend.users[user_id], None
                del self.sessions[value]  # NEW: a changed client address kills the session
                return None, None
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            login, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        if not password:
            return None, None
        try:
            user = self.backend.user(login)
        except KeyError:
            return None, None
        if not secrets.compare_digest(user.password.encode(), password.encode()):
            return None, None
        session = secrets.token_hex(16)
        self.sessions[session] = (user.id, remote)
        return user, session

    # ------------------------------------------------------------------ objects

    def _object_propfind(self, user: OXUser, servlet: str, f: dict[str, Element]) -> bytes:
        module = FOLDER_MODULES[servlet]
        object_id = int_of(f, "object_id")
        folder_id = int_of(f, "folder_id")
        if object_id is not None:
            try:
                obj = self.backend.get(user, module, object_id, folder_id)
            except OXFault as exc:
                resp, _ = response(0, exc.status, f"[{exc.code}] {exc.text}")
                return multistatus([serialise(resp)], self.backend.version)
            return multistatus([self._object_fragment(obj)], self.backend.version)
        mode_text = text_of(f, "objectmode")
        if mode_text is None and "lastsync" not in f:
            raise _HTTPError(400, "expected element: object_id or lastsync")
        modes = {m.strip().upper() for m in (mode_text or "MODIFIED,DELETED").split(",")}
        if not modes <= {"MODIFIED", "NEW_AND_MODIFIED", "DELETED", "LIST"}:
            raise _HTTPError(400, "invalid objectmode")
        try:
            dels, creates, ids = self.backend.listing(
                user,
                module,
                folder_id,
                int_of(f, "lastsync") or 0,
                modified=bool(modes & {"MODIFIED", "NEW_AND_MODIFIED"}),
                deleted="DELETED" in modes,
                full_list="LIST" in modes,
            )
        except OXFault as exc:
            raise _HTTPError(exc.status, exc.text) from None
        parts = [_delete_fragment(i, lm, module) for i, lm in dels]
        parts += [self._object_fragment(obj) for obj in creates]
        if ids is not None:
            listed = "".join([f"<ox:id>{i}</ox:id>" for i in ids])
            parts.append(
                f'<D:response xmlns:D="DAV:" xmlns:ox="{OX_NS}"><D:href>0</D:href><D:propstat>'
                f"<D:prop><ox:object_status>LIST</ox:object_status><ox:object_list>{listed}"
                f"</ox:object_list></D:prop><D:status>200</D:status>"
                f"<D:responsedescription>OK</D:responsedescription></D:propstat></D:response>".encode()
            )
        return multistatus(parts, self.backend.version)

    def _object_fragment(self, obj: OXObject) -> bytes:
        with self.backend.lock:
            if obj.fragment is not None:
                return obj.fragment
            extra = ""
            if obj.module in ("calendar", "task"):
                flag = "true" if "alarm" in obj.fields else "false"
                extra = f"<ox:alarm_flag>{flag}</ox:alarm_flag>"
                if obj.series is not None:  # a change exception names its series
                    extra += f"<ox:recurrence_id>{obj.series}</ox:recurrence_id>"
                elif "recurrence_type" in obj.fields:
                    extra += f"<ox:recurrence_id>{obj.id}</ox:recurrence_id>"
            head = (
                f'<D:response xmlns:D="DAV:" xmlns:ox="{OX_NS}"><D:href>{obj.id}</D:href>'
                f"<D:propstat><D:prop><ox:object_status>CREATE</ox:object_status>"
                f"<ox:object_id>{obj.id}</ox:object_id><ox:folder_id>{obj.folder}</ox:folder_id>"
                f"<ox:created_by>{obj.created_by}</ox:created_by>"
                f"<ox:modified_by>{obj.modified_by}</ox:modified_by>"
                f"<ox:creation_time>{obj.creation_time}</ox:creation_time>"
                f"<ox:last_modified>{obj.last_modified}</ox:last_modified>{extra}"
            )
            obj.fragment = head.encode() + obj.body + _FRAGMENT_TAIL
            return obj.fragment

    def _proppatch(self, user: OXUser, servlet: str, body: bytes) -> bytes:
        try:
            root = parse(body)
            if local(root) == "multistatus":
                inner = first(root, "propertyupdate")
                root = inner if inner is not None else root
            if local(root) != "propertyupdate":
                raise BadXML("expected propertyupdate")
        except BadXML:
            match = _CLIENT_ID.search(body[:65536])
            resp, prop = response(0, 400, "[1400] bad xml request")
            sub(
                prop,
                "client_id",
                match.group(1).decode("utf-8", "replace") if match else "not found",
            )
            return multistatus([serialise(resp)], self.backend.version)
        cache = LastModifiedCache()
        parts = []
        for block in root:
            if local(block) != "set":
                continue
            prop_in = first(block, "prop")
            f = ox_fields(prop_in) if prop_in is not None else {}
            client_id = text_of(f, "client_id")
            try:
                if servlet == "folders":
                    folder = self.backend.folder_op(user, f)
                    resp, prop = response(folder.id, 200, "[1200] OK")
                    sub(prop, "object_id", folder.id)
                    sub(prop, "last_modified", folder.last_modified)
                else:
                    obj, _ = self.backend.object_op(user, servlet, f, cache)
                    resp, prop = response(obj.id, 200, "[1200] OK")
                    sub(prop, "object_id", obj.id)
                    sub(prop, "last_modified", obj.last_modified)
                    if servlet in ("calendar", "tasks"):
                        sub(prop, "recurrence_id", obj.series or 0)
            except OXFault as exc:
                resp, prop = response(
                    int_of(f, "object_id") or 0, exc.status, f"[{exc.code}] {exc.text}"
                )
                if exc.conflicts:
                    holder = _dav(prop.getparent(), "conflictitems")
                    for c in exc.conflicts:
                        item = _dav(holder, "conflictitem")
                        item.set(OX + "subject", c.title)
                        item.text = f"{c.start},{c.end},{str(c.full_time).lower()}"
            if client_id is not None:
                sub(prop, "client_id", client_id)
            parts.append(serialise(resp))
        return multistatus(parts, self.backend.version)

    # ------------------------------------------------------------------ attachments

    def _attachments(
        self,
        environ: dict[str, Any],
        user: OXUser,
        method: str,
        body: bytes,
        start_response: StartResponse,
        extra: list[tuple[str, str]],
    ) -> Iterable[bytes]:
        """Header-keyed PUT/GET/DELETE of attachment files (reference §8)."""

        def header(name: str) -> str | None:
            value = environ.get("HTTP_" + name.upper().replace("-", "_"))
            return value.strip() if value else None

        def number(name: str) -> int | None:
            value = header(name)
            return ascii_int(value) if value is not None else None

        module, target = number("module"), number("target_id")
        folder, object_id = number("target_folder_id"), number("object_id")
        if module is None or target is None:
            return _plain(start_response, 400, "module and target_id are required", extra)
        try:
            if method == "PUT":
                att = self.backend.put_attachment(
                    user,
                    module,
                    target,
                    folder,
                    unquote(header("filename") or "attachment"),
                    environ.get("CONTENT_TYPE") or "application/octet-stream",
                    body,
                    rtf=(header("rtf_flag") or "").lower() == "true",
                    replace=object_id,
                )
                resp, prop = response(att.id, 200, "[1200] OK")
                sub(prop, "object_id", att.id)
                sub(prop, "last_modified", att.last_modified)
                client_id = header("client_id")
                if client_id is not None:
                    sub(prop, "client_id", client_id)
                payload = multistatus([serialise(resp)], self.backend.version)
                return _send(start_response, 207, payload, _XML, extra)
            if object_id is None:
                return _plain(start_response, 400, "object_id is required", extra)
            if method == "GET":
                att = self.backend.get_attachment(user, module, target, folder, object_id)
                return _send(start_response, 200, att.data, att.mimetype, extra)
            if method == "DELETE":
                self.backend.delete_attachment(user, module, target, folder, object_id)
                return _plain(start_response, 200, "OK", extra)
        except OXFault as exc:
            status = 404 if exc.code == 1001 else 409 if exc.status == 409 else exc.status
            return _plain(start_response, status, exc.text, extra)
        return _plain(start_response, 405, "Method Not Allowed", extra)

    # ------------------------------------------------------------------ folders

    def _folder_propfind(self, user: OXUser, f: dict[str, Element]) -> bytes:
        dels, creates = self.backend.folder_listing(user, int_of(f, "lastsync") or 0)
        parts = []
        for folder_id, _lm in dels:
            resp, prop = response(folder_id, 200, "OK")
            sub(prop, "object_status", "DELETE")
            sub(prop, "object_id", folder_id)
            parts.append(serialise(resp))
        parts += [serialise(_folder_response(folder, user)) for folder in creates]
        return multistatus(parts, self.backend.version)

    # ------------------------------------------------------------------ groupuser

    def _groupuser(self, user: OXUser, f: dict[str, Element]) -> bytes:
        backend = self.backend
        lastsync = int_of(f, "lastsync") or 0
        resp, prop = response(0, 200, "HTTP/1.1 200 OK")
        resp.find(f"{D}propstat/{D}status").text = "HTTP/1.1 200 OK"
        with backend.lock:
            if "user" in f:
                holder = sub(prop, "users")
                pattern = text_of(f, "user") or "*"
                for u in backend.users.values():
                    if u.last_modified <= lastsync or not _matches(
                        pattern, u.display_name, u.login, u.email
                    ):
                        continue
                    entry = sub(holder, "user")
                    sub(entry, "uid", u.id)
                    sub(entry, "object_id", u.contact_id)
                    sub(entry, "folder_id", 6)
                    sub(entry, "last_modified", u.last_modified)
                    sub(entry, "object_status", "CREATE")
                    sub(entry, "displayname", u.display_name)
                    sub(entry, "email1", u.email).set("isInternal", "true")
                    groups = sub(entry, "memberingroups")
                    for group_id in sorted(u.groups):
                        sub(groups, "member", group_id)
                    if u.id == user.id:
                        sub(entry, "myidentity", "true")
                        sub(entry, "context_id", backend.context_id)
            if "group" in f:
                holder = sub(prop, "groups")
                pattern = text_of(f, "group") or "*"
                for g in backend.groups.values():
                    if lastsync and g.last_modified <= lastsync:
                        continue
                    if not lastsync and not _matches(pattern, g.name):
                        continue
                    entry = sub(holder, "group")
                    status = "DELETE" if g.deleted else "CREATE"
                    sub(entry, "object_status", status)
                    sub(entry, "objectstatus", status)
                    sub(entry, "uid", g.id)
                    sub(entry, "last_modified", g.last_modified)
                    sub(entry, "displayname", g.name)
                    members = sub(entry, "members")
                    for m in sorted(g.members):
                        sub(members, "memberuid", m)
            if "resource" in f:
                holder = sub(prop, "resources")
                pattern = text_of(f, "resource") or "*"
                for r in backend.resources.values():
                    if r.last_modified <= lastsync or not _matches(pattern, r.name, r.email):
                        continue
                    entry = sub(holder, "resource")
                    sub(entry, "object_status", "CREATE")
                    sub(entry, "objectstatus", "CREATE")
                    sub(entry, "uid", r.id)
                    sub(entry, "last_modified", r.last_modified)
                    sub(entry, "displayname", r.name)
                    sub(entry, "email1", r.email)
        return multistatus([serialise(resp)], backend.version)

    # ------------------------------------------------------------------ free/busy

    def _freebusy(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if query.get("contextid") != str(self.backend.context_id):
            return _plain(start_response, 404, "Unable to determine context.")
        address = f"{query.get('username', '')}@{query.get('server', '')}"
        now = datetime.now(UTC)
        try:
            if "period" in query:
                months = int(query["period"])
                start, end = now - timedelta(days=30 * months), now + timedelta(days=30 * months)
            else:
                start = datetime.strptime(query["start"], "%Y%m%d").replace(tzinfo=UTC)
                end = datetime.strptime(query["end"], "%Y%m%d").replace(tzinfo=UTC)
        except (KeyError, ValueError, OverflowError):  # OverflowError: a period of eons
            return _plain(start_response, 400, "Bad Request")
        found = self.backend.freebusy(address, _ms(start), _ms(end))
        if found is None:
            return _plain(start_response, 404, "Not Found")
        mail, busy = found
        lines = [
            "BEGIN:VCALENDAR",
            "PRODID:-//www.open-xchange.org//",
            "VERSION:2.0",
            "METHOD:PUBLISH",
            "BEGIN:VFREEBUSY",
            f"ORGANIZER:{mail}",
            f"DTSTART:{_ical(_ms(start))}",
            f"DTEND:{_ical(_ms(end))}",
        ]
        for b_start, b_end, shown in busy:
            lines.append(
                f"FREEBUSY;FBTYPE={_FBTYPE.get(shown, 'BUSY')}:{_ical(b_start)}/{_ical(b_end)}"
            )
        lines += ["END:VFREEBUSY", "END:VCALENDAR", ""]
        return _send(
            start_response, 200, "\r\n".join(lines).encode(), "text/calendar; charset=UTF-8"
        )


# ---------------------------------------------------------------------- helpers


class _HTTPError(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


_REASONS = {
    200: "OK",
    207: "Multi-Status",
    400: "Bad Request",
    401: "Authorization Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _send(
    start_response: StartResponse,
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *(extra or [])]
    start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
    return [body]


def _plain(
    start_response: StartResponse,
    status: int,
    text: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = f"<html><body><h1>{status}</h1><p>{text}</p></body></html>".encode()
    return _send(start_response, status, body, "text/html; charset=UTF-8", extra)


def _truncated(result: Iterable[bytes]) -> Iterator[bytes]:
    body = b"".join(result)
    yield body[: max(1, len(body) // 2)]
    raise InjectedDrop("injected: connection dropped mid-response")


class InjectedDrop(OSError):
    """Raised by the app to cut a response short (the server closes the connection)."""


def _dav(parent: Element, name: str) -> Element:
    from lxml import etree  # type: ignore[import-untyped]

    return etree.SubElement(parent, D + name)


def _delete_fragment(object_id: int, last_modified: int, module: str) -> bytes:
    resp, prop = response(object_id, 200, "OK")
    sub(prop, "object_status", "DELETE")
    sub(prop, "object_id", object_id)
    sub(prop, "last_modified", last_modified)
    if module == "calendar":
        sub(prop, "recurrence_id", 0)
    return serialise(resp)


def _folder_response(folder: OXFolder, viewer: OXUser) -> Element:
    resp, prop = response(folder.id, 200, "OK")
    shared = folder.type == "private" and folder.owner != viewer.id and folder.id != 6
    sub(prop, "object_status", "CREATE")
    sub(prop, "object_id", folder.id)
    sub(prop, "folder_id", 3 if shared else folder.parent)
    sub(prop, "title", folder.title or f"no folder name {folder.id}")
    sub(prop, "owner", folder.owner)
    sub(prop, "module", folder.module)
    sub(prop, "type", "shared" if shared else folder.type)
    sub(prop, "defaultfolder", str(folder.default).lower())
    sub(prop, "created_by", folder.created_by)
    sub(prop, "creation_time", folder.creation_time)
    sub(prop, "modified_by", folder.modified_by)
    sub(prop, "last_modified", folder.last_modified)
    perms = sub(prop, "permissions")
    for p in folder.permissions:
        entry = sub(perms, "group" if p.group else "user", p.entity)
        for attr, value in (
            ("folderpermission", p.folder),
            ("objectreadpermission", p.read),
            ("objectwritepermission", p.write),
            ("objectdeletepermission", p.delete),
        ):
            entry.set(OX + attr, str(value))
        entry.set(OX + "admin_flag", str(p.admin).lower())
    return resp


def _matches(pattern: str, *values: str) -> bool:
    if pattern.strip() in ("", "*"):
        return True
    needle = pattern.strip("*").lower()
    return any(needle in v.lower() for v in values)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ical(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{moment.year:04d}" + moment.strftime("%m%dT%H%M%SZ")  # %Y: no padding below 1000
