"""HTTP client of OX WebDAV/XML: one place where httpx meets oxsync's errors.

:class:`OXClient` authenticates with HTTP Basic once, then sends the ``sessionid``
cookie the server set (falling back to Basic when the session is gone). Every httpx
error and every HTTP error status becomes a typed :mod:`oxsync.errors` error here,
keeping the original as ``__cause__``; no message ever carries the password, the
Authorization header or the session cookie. Responses are read in a streaming way and
cut off at ``max_bytes`` (:class:`~oxsync.errors.HostileInputError`).
"""

from __future__ import annotations

import base64
import collections
import html
import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from datetime import date
from urllib.parse import quote, quote_plus, urlsplit

import httpx
from attrs import frozen

from oxsync.adapters.ox._capture import TrafficCapture
from oxsync.adapters.ox._codec import (
    DEFAULT_MAX_BYTES,
    MAX_DIGITS,
    Element,
    OXResponse,
    child_text,
    children,
    parse_document,
    parse_multistatus,
    propertyupdate,
    propfind,
)
from oxsync.adapters.ox._freebusy import BusyInterval, parse_vfreebusy
from oxsync.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    HostileInputError,
    NotFoundError,
    OxsyncError,
    PermissionDeniedError,
    ProtocolError,
    TransientError,
    redact,
)
from oxsync.mappings.values import ascii_int

__all__ = ["GroupUser", "OXClient", "OXGroupEntry", "OXResourceEntry", "OXUserEntry"]

log = logging.getLogger("oxsync.adapters.ox")

_TAGS = re.compile(r"<[^>]+>")
DEADLINE_FACTOR = 10
"""A request whose answer is still arriving after this many ``timeout`` s is given up:
httpx's timeout is per read, so a server sending a byte now and then held a sync for
ever."""
_EXCERPT_BYTES = 4096
"""How much of an error answer's body its message is made from (at most 200 characters)."""
_SESSION_VALUE = re.compile(r"[!#-+\--:<-\[\]-~]{1,4096}")
"""A cookie value that can go back in a ``Cookie`` header (RFC 6265 cookie-octets)."""
_HEADER_SECRET = re.compile(
    r"""(\(b(['"])(?i:set-cookie|cookie|authorization|proxy-authorization)\2,\s*b)"""
    r"""(['"])(?:\\.|(?!\3).)*\3"""
)


class _HeaderSecrets(logging.Filter):
    """Hide cookie and authorization values in httpcore's DEBUG traces.

    httpcore logs each answer's headers (``receive_response_headers.complete
    return_value=(..., [(b'Set-Cookie', b'sessionid=...')])``), so an application that
    logs at DEBUG would keep the OX session.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _HEADER_SECRET.sub(lambda m: m.group(1) + "'***'", message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_HTTPCORE_LOGGERS = ("http11", "http2", "connection", "proxy", "socks")
for _name in _HTTPCORE_LOGGERS:
    _logger = logging.getLogger(f"httpcore.{_name}")
    if not any(isinstance(f, _HeaderSecrets) for f in _logger.filters):
        _logger.addFilter(_HeaderSecrets())


@frozen
class OXUserEntry:
    """A user of the global address book (``webdav.groupuser``)."""

    uid: str
    contact_id: str
    display_name: str
    email: str | None
    groups: tuple[str, ...] = ()
    is_me: bool = False
    context_id: str | None = None


@frozen
class OXGroupEntry:
    """A group: id, name and member user ids."""

    uid: str
    name: str
    members: tuple[str, ...] = ()
    deleted: bool = False


@frozen
class OXResourceEntry:
    """A bookable resource (room, equipment)."""

    uid: str
    name: str
    email: str | None = None


@frozen
class GroupUser:
    """Answer of ``webdav.groupuser``."""

    users: tuple[OXUserEntry, ...] = ()
    groups: tuple[OXGroupEntry, ...] = ()
    resources: tuple[OXResourceEntry, ...] = ()

    @property
    def me(self) -> OXUserEntry | None:
        """The entry of the authenticated user (``myidentity``)."""
        return next((u for u in self.users if u.is_me), None)


class OXClient:
    """Talks to ``<base_url>/servlet/webdav.*``.

    ``transport`` replaces the network (e.g. ``httpx.WSGITransport(app=...)`` for an
    in-process server); ``capture`` records the exchanged XML with secrets redacted.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        verify: bool = True,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        capture: TrafficCapture | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if "@" in base_url:
            # userinfo, however malformed the rest (a typo in the scheme, a / or @ in the
            # password): the URL is not shown
            raise ConfigError(
                "put the OX credentials in username/password, not in the URL", key="base_url"
            )
        bad = ConfigError(f"OX base URL must be http(s)://host[:port]: {redact(base_url)!r}")
        try:
            parts = urlsplit(base_url)
            parts.port  # noqa: B018  (raises ValueError for a port out of range)
        except ValueError:
            raise bad from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._basic = "Basic " + token
        self._session: str | None = None
        # known secrets: the password (also as pages echo it), the Basic token and the
        # session ids OX set
        self._credentials = (*_forms(password), token)
        self._sessions: collections.deque[str] = collections.deque(maxlen=64)
        self.last_content_type = ""
        self.capture = capture
        if capture is not None:
            for secret in self._credentials:
                capture.add_secret(secret)
        self.max_bytes = max_bytes
        self.deadline = DEADLINE_FACTOR * timeout
        try:
            self._http = httpx.Client(
                base_url=self.base_url,
                verify=verify,
                timeout=timeout,
                transport=transport,
                follow_redirects=False,
                headers={"User-Agent": "oxsync"},
            )
        except (httpx.InvalidURL, ValueError):
            raise bad from None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # ------------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        servlet: str,
        body: bytes = b"",
        *,
        params: Mapping[str, str] | None = None,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """Send one request to ``/servlet/webdav.<servlet>``; return the body of a 2xx.

        The answer's Content-Type is kept in :attr:`last_content_type`.

        Raises TransientError, AuthenticationError, PermissionDeniedError,
        NotFoundError, ConflictError, ProtocolError or HostileInputError.
        """
        for attempt in (0, 1):
            used_session = auth and self._session is not None
            status, content = self._send(method, servlet, body, params, auth, headers)
            if status == 401 and used_session and attempt == 0:
                self._session = None  # the session expired or moved: log in again
                continue
            return self._check(method, servlet, status, content)
        raise AssertionError("unreachable")

    def _send(
        self,
        method: str,
        servlet: str,
        body: bytes,
        params: Mapping[str, str] | None,
        auth: bool,
        extra: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        headers = {"Content-Type": "text/xml; charset=UTF-8"} if body else {}
        headers.update(extra or {})
        if auth:
            if self._session is not None:
                headers["Cookie"] = f"sessionid={self._session}"
            else:
                headers["Authorization"] = self._basic
        url = f"/servlet/webdav.{servlet}"
        started = time.perf_counter()
        status: int | None = None
        resp_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        try:
            request = self._http.build_request(
                method, url, content=body, headers=headers, params=params
            )
            response = self._http.send(request, stream=True)
            try:
                status = response.status_code
                resp_headers = list(response.headers.multi_items())
                self.last_content_type = response.headers.get("Content-Type", "")
                declared = response.headers.get("Content-Length", "")
                # a prefix of MAX_DIGITS + 1 digits is already far over any limit
                announced = ascii_int(declared[: MAX_DIGITS + 1])
                if announced is not None and announced > self.max_bytes:
                    raise HostileInputError(
                        f"OX {servlet} announced {declared} bytes, over {self.max_bytes}"
                    )
                total = 0
                for chunk in response.iter_bytes():
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise HostileInputError(
                            f"OX {servlet} answer exceeds {self.max_bytes} bytes"
                        )
                    chunks.append(chunk)
                    if time.perf_counter() - started > self.deadline:
                        raise TransientError(
                            f"OX {servlet}: the answer was still arriving after {self.deadline:g} s"
                        )
                self._take_session(response)
            finally:
                response.close()
                self._http.cookies.clear()  # the session cookie is managed above
        except (HostileInputError, TransientError) as exc:
            self._record(method, url, headers, body, status, resp_headers, b"", str(exc), started)
            log.info("%s", exc)
            raise
        except (UnicodeEncodeError, httpx.HTTPError, OSError) as exc:
            self._fail(method, url, headers, body, started, exc, self._typed(servlet, exc))
        content = b"".join(chunks)
        self._record(method, url, headers, body, status, resp_headers, content, None, started)
        assert status is not None
        log.debug(
            "%s webdav.%s -> %s (%d bytes, %.3f s)",
            method,
            servlet,
            status,
            len(content),
            time.perf_counter() - started,
        )
        return status, content

    def _take_session(self, response: httpx.Response) -> None:
        """Keep the ``sessionid`` OX set (the last usable one if several); every session
        cookie's value becomes a known secret."""
        for cookie in response.cookies.jar:
            value = cookie.value or ""
            ours = cookie.name == "sessionid"
            if not (ours or ("session" in cookie.name.lower() and len(value) >= 8)):
                continue
            if value and value not in self._sessions:
                self._sessions.append(value)
                if self.capture is not None:
                    self.capture.add_secret(value)
            if ours and _SESSION_VALUE.fullmatch(value):
                self._session = value

    def _typed(self, servlet: str, exc: Exception) -> OxsyncError:
        """The oxsync error for a request that got no answer (secrets redacted)."""
        if isinstance(exc, UnicodeEncodeError):  # a header value not ASCII: an id OX gave
            return ProtocolError(f"OX {servlet}: a request header is not ASCII (an id OX gave?)")
        if isinstance(exc, httpx.LocalProtocolError):  # e.g. a newline in a header value
            return ProtocolError(f"OX {servlet}: the request is no valid HTTP ({self._safe(exc)})")
        if isinstance(exc, httpx.TimeoutException):
            return TransientError(f"OX {servlet}: timed out ({type(exc).__name__})")
        if isinstance(exc, httpx.TransportError | OSError):
            return TransientError(
                f"OX {servlet}: connection failed ({type(exc).__name__}: {self._safe(exc)})"
            )
        return ProtocolError(f"OX {servlet}: {type(exc).__name__}: {self._safe(exc)}")

    def _fail(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        started: float,
        exc: Exception,
        error: Exception,
    ) -> None:
        self._record(method, url, headers, body, None, [], b"", str(error), started)
        log.info("%s", error)
        raise error from exc

    def _record(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        status: int | None,
        resp_headers: Iterable[tuple[str, str]],
        content: bytes,
        error: str | None,
        started: float,
    ) -> None:
        if self.capture is not None:
            self.capture.record(
                method,
                self.base_url + url,
                headers.items(),
                body,
                status=status,
                response_headers=resp_headers,
                response_body=content,
                error=error,
                seconds=time.perf_counter() - started,
            )

    def _safe(self, exc: BaseException) -> str:
        return redact(str(exc), [*self._credentials, *self._sessions])[:200]

    def _excerpt(self, content: bytes) -> str:
        """The text of an error answer for its message: redacted before the page's tags
        are stripped (a password with ``<``/``>`` in it) and before any cut."""
        secrets = [*self._credentials, *self._sessions]
        text = content[:_EXCERPT_BYTES].decode("utf-8", "replace")
        if len(content) > _EXCERPT_BYTES:
            # a secret across the cut would leave a prefix: drop as much as the longest is
            text = text[: max(0, len(text) - max(map(len, secrets)))]
        text = redact(_TAGS.sub(" ", redact(text, secrets)), secrets)
        return " ".join(text.split())[:200]

    def _check(self, method: str, servlet: str, status: int, content: bytes) -> bytes:
        if 200 <= status < 300:
            return content
        text = self._excerpt(content)
        text = text.removeprefix(str(status)).lstrip()  # an error page's "404 Not Found"
        message = f"OX {method} webdav.{servlet}: HTTP {status} {text}".strip()
        if status == 401:
            raise AuthenticationError(f"OX rejected the credentials of {self.username!r}")
        if status == 403:
            raise PermissionDeniedError(message)
        if status == 404:
            raise NotFoundError(message)
        if status == 409:
            raise ConflictError(message)
        if status >= 500 or status in (408, 429):
            raise TransientError(message)
        raise ProtocolError(message)

    # ------------------------------------------------------------------ XML calls

    def propfind(self, servlet: str, fields: Mapping[str, object]) -> list[OXResponse]:
        """PROPFIND with ox ``fields``; the parsed ``D:response`` entries."""
        return self._multistatus(self.request("PROPFIND", servlet, propfind(fields)))

    def listing(self, servlet: str, fields: Mapping[str, object]) -> tuple[list[OXResponse], bool]:
        """:meth:`propfind`, and whether the answer mentions ``attachments`` at all: one
        byte search, so that a folder without files costs no look at each object."""
        content = self.request("PROPFIND", servlet, propfind(fields))
        return self._multistatus(content), b"attachments" in content

    def proppatch(self, servlet: str, props: Iterable[Element]) -> list[OXResponse]:
        """PROPPATCH with one ``D:set`` per prop; the responses, one per block."""
        return self._multistatus(self.request("PROPPATCH", servlet, propertyupdate(props)))

    def _multistatus(self, content: bytes) -> list[OXResponse]:
        return parse_multistatus(parse_document(content, max_bytes=self.max_bytes))

    def version(self) -> str:
        """The server version line of ``webdav.version`` (no authentication)."""
        text = self.request("GET", "version", auth=False).decode("utf-8", "replace")
        return text.strip().splitlines()[0] if text.strip() else ""

    def groupuser(
        self, *, users: str | None = "*", groups: str | None = "*", resources: str | None = "*"
    ) -> GroupUser:
        """Users (GAL), groups and resources matching the patterns (``None``: skip)."""
        fields = {
            k: v
            for k, v in (("user", users), ("group", groups), ("resource", resources))
            if v is not None
        }
        responses = self.propfind("groupuser", fields)
        if not responses:
            raise ProtocolError("webdav.groupuser answered no response")
        prop = responses[0].prop
        return GroupUser(
            users=tuple(
                _user(e)
                for h in children(prop, "users")
                for e in children(h, "user")
                if child_text(e, "object_status") != "DELETE"
            ),
            groups=tuple(_group(e) for h in children(prop, "groups") for e in children(h, "group")),
            resources=tuple(
                _resource(e) for h in children(prop, "resources") for e in children(h, "resource")
            ),
        )

    def put_attachment(
        self,
        module: int,
        folder_id: str,
        target_id: str,
        filename: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        rtf: bool = False,
        replace_id: str | None = None,
    ) -> tuple[str, str]:
        """Attach a file to an object (``module`` 1 appointment, 4 task, 7 contact).

        Returns ``(attachment_id, last_modified)``; ``replace_id`` replaces that attachment.
        """
        headers = {
            "module": str(module),
            "target_id": target_id,
            "target_folder_id": folder_id,
            "filename": quote(filename),
            "rtf_flag": str(rtf).lower(),
            "Content-Type": content_type,
        }
        if replace_id is not None:
            headers["object_id"] = replace_id
        responses = self._multistatus(self.request("PUT", "attachments", data, headers=headers))
        if len(responses) != 1:
            raise ProtocolError("webdav.attachments answered no single response")
        resp = responses[0]
        if not resp.ok:
            raise ProtocolError(f"OX refused the attachment: {resp.description}")
        return resp.text("object_id") or resp.href, resp.text("last_modified") or ""

    def get_attachment(
        self, module: int, folder_id: str, target_id: str, attachment_id: str
    ) -> tuple[bytes, str]:
        """``(data, content_type)`` of an attachment."""
        data = self.request(
            "GET",
            "attachments",
            headers=_attachment_headers(module, folder_id, target_id, attachment_id),
        )
        return data, self.last_content_type or "application/octet-stream"

    def delete_attachment(
        self, module: int, folder_id: str, target_id: str, attachment_id: str
    ) -> None:
        """Remove an attachment (NotFoundError if it is gone)."""
        self.request(
            "DELETE",
            "attachments",
            headers=_attachment_headers(module, folder_id, target_id, attachment_id),
        )

    def freebusy(
        self, username: str, server: str, start: date, end: date, *, context_id: str | int = 1
    ) -> list[BusyInterval]:
        """Busy intervals of ``username@server`` between two days (``webdav.freebusy``)."""
        params = {
            "contextid": str(context_id),
            "username": username,
            "server": server,
            "start": _yyyymmdd(start),
            "end": _yyyymmdd(end),
        }
        text = self.request("GET", "freebusy", params=params, auth=False)
        return parse_vfreebusy(text.decode("utf-8", "replace"))


def _forms(secret: str) -> list[str]:
    """``secret`` as error pages and proxies echo it: as is, HTML-, URL-, form- and
    JSON-escaped."""
    forms = {
        secret,
        html.escape(secret, quote=False),
        html.escape(secret),
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
    }
    return sorted(f for f in forms if f)


def _yyyymmdd(day: date) -> str:
    """``yyyyMMdd`` for any year (``strftime("%Y")`` does not pad years below 1000)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _user(el: Element) -> OXUserEntry:
    groups = tuple(
        (m.text or "").strip()
        for h in children(el, "memberingroups")
        for m in children(h, "member")
    )
    return OXUserEntry(
        uid=child_text(el, "uid") or "",
        contact_id=child_text(el, "object_id") or "",
        display_name=child_text(el, "displayname") or "",
        email=child_text(el, "email1"),
        groups=groups,
        is_me=(child_text(el, "myidentity") or "").lower() == "true",
        context_id=child_text(el, "context_id"),
    )


def _group(el: Element) -> OXGroupEntry:
    members = tuple(
        (m.text or "").strip() for h in children(el, "members") for m in children(h, "memberuid")
    )
    status = child_text(el, "object_status") or child_text(el, "objectstatus")
    return OXGroupEntry(
        child_text(el, "uid") or "",
        child_text(el, "displayname") or "",
        members,
        deleted=status == "DELETE",
    )


def _resource(el: Element) -> OXResourceEntry:
    return OXResourceEntry(
        child_text(el, "uid") or "", child_text(el, "displayname") or "", child_text(el, "email1")
    )


def _attachment_headers(
    module: int, folder_id: str, target_id: str, attachment_id: str
) -> dict[str, str]:
    return {
        "module": str(module),
        "target_id": target_id,
        "target_folder_id": folder_id,
        "object_id": attachment_id,
    }
