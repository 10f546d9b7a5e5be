"""OX answers -> typed oxsync results and errors (one table for the whole adapter)."""

from __future__ import annotations

from datetime import UTC, datetime

from oxsync.adapters.ox._codec import ConflictItem, OXResponse
from oxsync.core.records import ParticipationStatus
from oxsync.core.store import Failure, FailureKind
from oxsync.errors import (
    ConflictError,
    InvalidDataError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    TransientError,
)

__all__ = ["CONFIRM", "ERROR_OF_KIND", "NO_CHECK", "describe", "failure_of", "timestamp"]

NO_CHECK = str(2**63 - 1)
"""``last_modified`` sent when an op carries no version: newer than anything stored."""

_FAILURE_OF_CODE = {
    1000: FailureKind.CONFLICT,
    1001: FailureKind.NOT_FOUND,
    1002: FailureKind.PERMISSION,
    1003: FailureKind.INVALID,
    1004: FailureKind.INVALID,
    1006: FailureKind.INVALID,
    1100: FailureKind.INVALID,
    1400: FailureKind.INVALID,
    1500: FailureKind.TRANSIENT,
}
CONFIRM = {
    ParticipationStatus.ACCEPTED: "accept",
    ParticipationStatus.DECLINED: "decline",
    ParticipationStatus.TENTATIVE: "tentative",
    ParticipationStatus.NONE: "none",
}
"""Participation status -> the ``confirm`` value of a CONFIRM request."""
ERROR_OF_KIND: dict[FailureKind, type[Exception]] = {
    FailureKind.CONFLICT: ConflictError,
    FailureKind.NOT_FOUND: NotFoundError,
    FailureKind.PERMISSION: PermissionDeniedError,
    FailureKind.INVALID: InvalidDataError,
    FailureKind.TRANSIENT: TransientError,
}
"""Failure kind -> the error raised when a whole call (folder operation) fails."""


def failure_of(resp: OXResponse) -> Failure:
    """The :class:`Failure` of an unsuccessful ``D:response`` (server text kept)."""
    kind = _FAILURE_OF_CODE.get(resp.code or 0)
    if kind is None:  # NEW-style "[CON-0119] Conflict" or a bare HTTP-like status
        text = resp.description.lower()
        if resp.status >= 500:
            kind = FailureKind.TRANSIENT
        elif resp.status == 404:
            kind = FailureKind.NOT_FOUND
        elif resp.status == 403:
            kind = FailureKind.PERMISSION
        elif resp.status == 409 and ("modified" in text or text.endswith("conflict")):
            kind = FailureKind.CONFLICT
        else:
            kind = FailureKind.INVALID
    return Failure(kind, resp.description)


def timestamp(text: str | None) -> int:
    """An OX timestamp (ms) as an int; ``None`` or empty is 0."""
    try:
        return int(text or 0)
    except ValueError:
        raise ProtocolError(f"unreadable OX timestamp {(text or '')[:30]!r}") from None


def describe(conflict: ConflictItem) -> str:
    """One line naming a clashing appointment and its time (UTC)."""
    what = repr(conflict.subject or "a private appointment")
    try:
        start = datetime.fromtimestamp(conflict.start_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        end = datetime.fromtimestamp(conflict.end_ms / 1000, UTC).strftime("%H:%M")
    except (OverflowError, OSError, ValueError):  # a time outside datetime's range
        return f"{what} {conflict.start_ms}–{conflict.end_ms} ms"
    return f"{what} {start}–{end} UTC"
