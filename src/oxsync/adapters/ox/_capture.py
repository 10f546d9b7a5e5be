"""Traffic capture: a bounded log of the XML exchanged with OX, secrets redacted.

It serves the diagnostics the OXtender showed in its debug tab. Each entry keeps the
method, URL, status, headers and (truncated) bodies of one exchange. Authorization,
Cookie and Set-Cookie headers are replaced by ``***``; bodies and URLs go through
:func:`oxsync.errors.redact` with the account's password as a known secret.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable, Sequence

from attrs import frozen

from oxsync.errors import redact

__all__ = ["Exchange", "TrafficCapture"]

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


@frozen
class Exchange:
    """One request and its answer, already redacted."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: str
    status: int | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: str = ""
    error: str | None = None
    seconds: float = 0.0

    def __str__(self) -> str:
        lines = [f">>> {self.method} {self.url}"]
        lines += [f">>> {k}: {v}" for k, v in self.request_headers]
        if self.request_body:
            lines.append(self.request_body)
        outcome = self.error if self.error else f"HTTP {self.status}"
        lines.append(f"<<< {outcome} ({self.seconds * 1000:.1f} ms)")
        lines += [f"<<< {k}: {v}" for k, v in self.response_headers]
        if self.response_body:
            lines.append(self.response_body)
        return "\n".join(lines)


class TrafficCapture:
    """Keep the last ``max_entries`` exchanges; bodies cut at ``max_body`` characters.

    >>> capture = TrafficCapture(secrets=["hunter2"])
    >>> capture.record("GET", "http://ox/x", [("Authorization", "Basic abc")], b"pw hunter2")
    >>> print(capture.entries()[0].request_headers, capture.entries()[0].request_body)
    (('Authorization', '***'),) pw ***
    """

    def __init__(
        self, *, max_entries: int = 200, max_body: int = 64 * 1024, secrets: Sequence[str] = ()
    ) -> None:
        self.max_body = max_body
        self._secrets = [s for s in secrets if s]
        self._entries: collections.deque[Exchange] = collections.deque(maxlen=max_entries)
        self._lock = threading.Lock()

    def add_secret(self, secret: str) -> None:
        """Also redact ``secret`` (e.g. a session id learnt later)."""
        if secret:
            self._secrets.append(secret)

    def record(
        self,
        method: str,
        url: str,
        request_headers: Iterable[tuple[str, str]],
        request_body: bytes,
        *,
        status: int | None = None,
        response_headers: Iterable[tuple[str, str]] = (),
        response_body: bytes = b"",
        error: str | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Add one exchange (redacting it first)."""
        entry = Exchange(
            method=method,
            url=self._clean(url),
            request_headers=self._headers(request_headers),
            request_body=self._body(request_body),
            status=status,
            response_headers=self._headers(response_headers),
            response_body=self._body(response_body),
            error=None if error is None else self._clean(error),
            seconds=seconds,
        )
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[Exchange]:
        """The captured exchanges, oldest first."""
        with self._lock:
            return list(self._entries)

    def dump(self) -> str:
        """All exchanges as text."""
        return "\n\n".join(str(e) for e in self.entries())

    def clear(self) -> None:
        """Forget every exchange."""
        with self._lock:
            self._entries.clear()

    def _clean(self, text: str) -> str:
        return redact(text, self._secrets)

    def _headers(self, headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple(
            (k, "***" if k.lower() in _SECRET_HEADERS else self._clean(v)) for k, v in headers
        )

    def _body(self, body: bytes) -> str:
        # redacted before it is cut, so that a secret across the cut leaves no prefix;
        # where the bytes read are cut too, as many characters as the longest secret has
        # are dropped before redaction (wide characters fit fewer in the bytes read)
        text = body[: self.max_body * 4].decode("utf-8", "replace")
        if len(body) > self.max_body * 4 and self._secrets:
            text = text[: max(0, len(text) - max(map(len, self._secrets)))]
        text = self._clean(text)
        if len(text) > self.max_body:
            text = text[: self.max_body] + f"… [{len(body)} bytes]"
        return text
