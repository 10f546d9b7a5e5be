"""COM failures translated to oxsync errors, in one place (reference §16).

:func:`translate` turns a ``pywintypes.com_error`` (or the fake's look-alike) into the
most specific :class:`~oxsync.errors.StoreError`: busy / disconnected Outlook is
:class:`~oxsync.errors.TransientError` (retry later), the rest is lasting. Outlook wraps
most failures in ``DISP_E_EXCEPTION`` with the real code in ``excepinfo[5]``; that inner
code decides. The original exception is kept as ``__cause__`` by :func:`com_errors`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from oxsync.core.store import FailureKind
from oxsync.errors import (
    ConflictError,
    InvalidDataError,
    LastingError,
    NotFoundError,
    OxsyncError,
    PermissionDeniedError,
    StoreError,
    TransientError,
)

__all__ = [
    "com_errors",
    "failure_kind",
    "hresult_of",
    "is_com_error",
    "item_errors",
    "translate",
]


def _s(code: int) -> int:
    return code - (1 << 32) if code & 0x80000000 else code


DISP_E_EXCEPTION = _s(0x80020009)

_TRANSIENT = {
    _s(0x80010001): "Outlook is busy and rejected the call (RPC_E_CALL_REJECTED)",
    _s(0x8001010A): "Outlook is busy, retry later (RPC_E_SERVERCALL_RETRYLATER)",
    _s(0x80010108): "Outlook disconnected (RPC_E_DISCONNECTED)",
    _s(0x80010007): "Outlook stopped (RPC_E_SERVER_DIED)",
    _s(0x80010012): "Outlook stopped (RPC_E_SERVER_DIED_DNE)",
    _s(0x800706BA): "the RPC server is unavailable",
    _s(0x80080005): "Outlook could not be started (CO_E_SERVER_EXEC_FAILURE)",
    _s(0x80040115): "the mail server cannot be reached (MAPI_E_NETWORK_ERROR)",
    _s(0x8004010B): "the store is busy (MAPI_E_BUSY)",
    _s(0x80040401): "the operation timed out (MAPI_E_TIMEOUT)",
    _s(0x8004011D): "the server is unavailable (MAPI_E_FAILONEPROVIDER)",
}
_LASTING: dict[int, type[LastingError]] = {
    _s(0x8004010F): NotFoundError,  # MAPI_E_NOT_FOUND
    _s(0x80040107): NotFoundError,  # MAPI_E_INVALID_ENTRYID
    _s(0x80070005): PermissionDeniedError,  # E_ACCESSDENIED / MAPI_E_NO_ACCESS
    _s(0x80040109): ConflictError,  # MAPI_E_OBJECT_CHANGED
    _s(0x80070057): InvalidDataError,  # E_INVALIDARG
    _s(0x80020005): InvalidDataError,  # DISP_E_TYPEMISMATCH
    _s(0x80040102): InvalidDataError,  # MAPI_E_NO_SUPPORT
    _s(0x80004005): InvalidDataError,  # E_FAIL: Outlook refuses the item
    _s(0x8004060C): InvalidDataError,  # MAPI_E_STORE_FULL
}


def is_com_error(exc: BaseException) -> bool:
    """Whether ``exc`` looks like a COM error (pywintypes or the fake)."""
    return type(exc).__name__ == "com_error" and bool(getattr(exc, "args", None))


def hresult_of(exc: BaseException) -> int:
    """The code that matters: the scode inside DISP_E_EXCEPTION, else the hresult."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    hresult = getattr(exc, "hresult", args[0] if args else 0)
    excepinfo = getattr(exc, "excepinfo", args[2] if len(args) > 2 else None)
    if hresult == DISP_E_EXCEPTION and excepinfo and len(excepinfo) > 5 and excepinfo[5]:
        return int(excepinfo[5])
    return int(hresult or 0)


def _description(exc: BaseException) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    excepinfo = args[2] if len(args) > 2 else None
    if excepinfo and len(excepinfo) > 2 and excepinfo[2]:
        return str(excepinfo[2])
    return str(args[1]) if len(args) > 1 else str(exc)


def translate(exc: BaseException, doing: str = "") -> StoreError:
    """The oxsync error for a COM failure (``doing`` says what was being done)."""
    code = hresult_of(exc)
    prefix = f"Outlook failed to {doing}: " if doing else "Outlook: "
    text = f"{prefix}{_description(exc)} (0x{code & 0xFFFFFFFF:08X})"
    if code in _TRANSIENT:
        return TransientError(f"{prefix}{_TRANSIENT[code]} (0x{code & 0xFFFFFFFF:08X})")
    return _LASTING.get(code, LastingError)(text)


@contextlib.contextmanager
def com_errors(doing: str = "") -> Iterator[None]:
    """Re-raise COM errors inside the block as oxsync errors (cause kept)."""
    try:
        yield
    except OxsyncError:
        raise
    except Exception as exc:
        if is_com_error(exc):
            raise translate(exc, doing) from exc
        raise


@contextlib.contextmanager
def item_errors(doing: str = "") -> Iterator[None]:
    """Like :func:`com_errors`, for work on an item already opened.

    There a not-found (``MAPI_E_NOT_FOUND``: a property the item lacks, a member that
    fails) is about a part of the item, not the item: it is an
    :class:`~oxsync.errors.InvalidDataError`. Reported as not found, a read would make
    the engine delete the item on the other side, and a delete would count as done.
    """
    try:
        with com_errors(doing):
            yield
    except NotFoundError as exc:
        raise InvalidDataError(f"{exc} (the item is there)") from exc.__cause__


def failure_kind(error: StoreError) -> FailureKind:
    """The item-level failure kind for a translated error."""
    if isinstance(error, TransientError):
        return FailureKind.TRANSIENT
    if isinstance(error, NotFoundError):
        return FailureKind.NOT_FOUND
    if isinstance(error, PermissionDeniedError):
        return FailureKind.PERMISSION
    if isinstance(error, ConflictError):
        return FailureKind.CONFLICT
    return FailureKind.INVALID
