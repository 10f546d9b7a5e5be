"""COM-level behaviour shared by the fake object model: errors, the clock, date labelling.

The fake raises :class:`com_error` shaped like ``pywintypes.com_error`` (``hresult``,
``strerror``, ``excepinfo``, ``argerror``) so the adapter's one translation function
handles both. Dates cross the boundary the way pywin32 hands them out: Outlook's local
wall-clock time in a ``datetime`` **labelled UTC** (mhammond/pywin32#1760); values written
are read the way pywin32 converts them (aware values are turned into UTC first, then
their wall clock is taken as local time by Outlook).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any, NamedTuple

__all__ = [
    "DISP_E_EXCEPTION",
    "E_ACCESSDENIED",
    "E_FAIL",
    "E_INVALIDARG",
    "MAPI_E_NOT_FOUND",
    "NO_DATE",
    "RPC_E_CALL_REJECTED",
    "RPC_E_DISCONNECTED",
    "RPC_E_SERVERCALL_RETRYLATER",
    "Clock",
    "Fault",
    "FaultCall",
    "com_error",
]


def _signed(code: int) -> int:
    return code - (1 << 32) if code & 0x80000000 else code


E_FAIL = _signed(0x80004005)
E_INVALIDARG = _signed(0x80070057)
E_ACCESSDENIED = _signed(0x80070005)
DISP_E_EXCEPTION = _signed(0x80020009)
MAPI_E_NOT_FOUND = _signed(0x8004010F)
RPC_E_CALL_REJECTED = _signed(0x80010001)
RPC_E_SERVERCALL_RETRYLATER = _signed(0x8001010A)
RPC_E_DISCONNECTED = _signed(0x80010108)

NO_DATE = datetime(4501, 1, 1)
"""Outlook's "None" for empty Date fields (naive, local)."""


class com_error(Exception):
    """A COM failure, laid out like ``pywintypes.com_error``.

    Outlook reports most failures as ``DISP_E_EXCEPTION`` with the real code in
    ``excepinfo[5]`` (the scode), which is what the fake does too.
    """

    def __init__(self, scode: int, message: str, *, wrapped: bool = True) -> None:
        hresult = DISP_E_EXCEPTION if wrapped else scode
        excepinfo = (0, "Microsoft Outlook", message, None, 0, scode) if wrapped else None
        super().__init__(hresult, "Exception occurred." if wrapped else message, excepinfo, None)
        self.hresult = hresult
        self.strerror = self.args[1]
        self.excepinfo = excepinfo
        self.argerror = None


ARMED = [0]
"""How many applications have a fault armed: every counted call tests this first, so an
unarmed fake pays one list read per call, not an attribute lookup on the application
(which, on a heap type with ``__getattr__``, also walks the type's method cache)."""


class FaultCall(NamedTuple):
    """One object-model call offered to an armed fault (``Application.fail_on``).

    ``number``: ``Application.calls`` counting this call; ``obj``: the COM object called;
    ``name``: the property or method; ``kind``: ``"get"`` (a property read), ``"set"``
    (a property write) or ``"call"`` (a method, or a property computed by the object).
    """

    number: int
    obj: Any
    name: str
    kind: str


class Fault:
    """An armed fault: raises ``com_error(scode)`` at the calls ``when`` accepts.

    The check happens as the call is counted, before it has any effect (the call was
    rejected; to model "done, but the answer was lost", fail the call after it).
    ``times`` faults at most (None: every accepted call); then the fault disarms itself.
    ``raised`` lists the calls that failed.
    """

    def __init__(
        self,
        app: Any,
        when: Callable[[FaultCall], bool],
        scode: int,
        *,
        times: int | None = 1,
        wrapped: bool = True,
    ) -> None:
        self.app = app
        self.when = when
        self.scode = scode
        self.times = times
        self.wrapped = wrapped
        self.raised: list[FaultCall] = []

    def offer_from(self, obj: Any, frame: FrameType | None) -> None:
        """Offer the call made in ``frame`` (``OomObject._touch``'s caller)."""
        code = frame.f_code.co_name if frame is not None else "?"
        if code == "__getattr__" and frame is not None:
            self.offer(obj, str(frame.f_locals.get("name")), "get")
        elif code == "__setattr__" and frame is not None:
            self.offer(obj, str(frame.f_locals.get("name")), "set")
        else:
            self.offer(obj, code, "call")

    def offer(self, obj: Any, name: str, kind: str) -> None:
        """Raise if ``when`` accepts this call."""
        call = FaultCall(self.app.calls, obj, name, kind)
        if not self.when(call):
            return
        self.raised.append(call)
        if self.times is not None and len(self.raised) >= self.times:
            self.app.clear_faults()
        raise com_error(
            self.scode,
            f"injected fault at {type(obj).__name__}.{name}",
            wrapped=self.wrapped,
        )


class Clock:
    """The fake's time source: strictly increasing aware UTC instants.

    Outlook stamps ``LastModificationTime`` at each save; two saves never get the same
    stamp here (a millisecond apart at least), so a version taken from it always moves.
    ``now`` may be replaced (e.g. ``lambda: fixed``) and ``advance`` shifts time.
    """

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self.now = now or (lambda: datetime.now(UTC))
        self.offset = timedelta()
        self._last = datetime(1970, 1, 1, tzinfo=UTC)
        self._ids = itertools.count(1)

    def advance(self, **delta: float) -> None:
        """Move the clock forward (``advance(minutes=5)``)."""
        self.offset += timedelta(**delta)

    def stamp(self) -> datetime:
        """A new modification stamp (aware UTC, millisecond precision, strictly later)."""
        now = self.now() + self.offset
        value = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if value <= self._last:
            value = self._last + timedelta(milliseconds=1)
        self._last = value
        return value


def labelled_utc(local_naive: datetime) -> datetime:
    """What pywin32 returns for a COM date: the local wall clock, tagged ``UTC``."""
    return local_naive.replace(tzinfo=UTC)


def wall_clock(value: Any) -> datetime:
    """The naive local wall clock Outlook receives when pywin32 is given ``value``.

    pywin32 converts an aware ``datetime`` to UTC and drops the zone; a naive one is
    passed as is. Outlook then reads the result as local time.
    """
    if not isinstance(value, datetime):
        raise com_error(E_INVALIDARG, f"type mismatch: expected a date, got {value!r}")
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
