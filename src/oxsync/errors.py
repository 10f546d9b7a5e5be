"""The one error hierarchy of oxsync.

Every error oxsync raises derives from :class:`OxsyncError`. Adapters translate their
native errors (httpx, lxml, COM) into these at one boundary each, keeping the original
as ``__cause__``. Messages never contain secrets (passwords, Authorization headers,
cookies): build them from :func:`redact` where user input may carry one.

::

    OxsyncError
    ├── ConfigError                 bad configuration (names the key and line)
    ├── StoreError                  anything a store reports
    │   ├── TransientError          retry later: timeout, connection lost, 5xx, busy
    │   ├── LastingError            retrying the same call will fail the same way
    │   │   ├── AuthenticationError wrong credentials
    │   │   ├── PermissionDeniedError the store refuses (no right, read-only)
    │   │   │   └── ReadOnlyStoreError
    │   │   ├── NotFoundError       no such item or folder
    │   │   ├── ConflictError       stale version
    │   │   ├── InvalidDataError    the store refuses the data
    │   │   └── ProtocolError       the peer answered something we cannot read
    │   │       └── HostileInputError  entities, oversize documents
    │   └── StoreCrashed            a fault injected by a test store ("the process died")
    ├── MappingError                native ⇄ canonical conversion failed (all fields listed)
    ├── StateError                  the state database is unusable
    │   └── SchemaVersionError      state written by a newer oxsync
    └── SyncError                   the engine refuses to go on
        ├── MassDeleteError         the mass-delete brake stopped a sync
        ├── SyncInProgressError     another run syncs the same pair and state
        └── UnknownFolderError      a slow sync asked for a folder the pair does not have
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "FieldError",
    "HostileInputError",
    "InvalidDataError",
    "LastingError",
    "MappingError",
    "MassDeleteError",
    "NotFoundError",
    "OxsyncError",
    "PermissionDeniedError",
    "ProtocolError",
    "ReadOnlyStoreError",
    "SchemaVersionError",
    "StateError",
    "StoreCrashed",
    "StoreError",
    "SyncError",
    "SyncInProgressError",
    "TransientError",
    "UnknownFolderError",
    "redact",
]


class OxsyncError(Exception):
    """Base of every error oxsync raises."""


class ConfigError(OxsyncError):
    """The configuration is wrong; the message names the key (and line when known)."""

    def __init__(self, message: str, *, key: str | None = None, line: int | None = None):
        where = ""
        if key is not None:
            where = f" [key {key!r}" + (f", line {line}" if line is not None else "") + "]"
        super().__init__(message + where)
        self.key = key
        self.line = line


class StoreError(OxsyncError):
    """A store could not do what was asked."""


class TransientError(StoreError):
    """A failure that may go away if the same call is retried later."""


class LastingError(StoreError):
    """A failure that retrying the same call will not cure."""


class AuthenticationError(LastingError):
    """The store rejected the credentials."""


class PermissionDeniedError(LastingError):
    """The store refuses the operation for lack of rights."""


class ReadOnlyStoreError(PermissionDeniedError):
    """A write was attempted on a store opened read-only (enforced in core)."""


class NotFoundError(LastingError):
    """No such item or folder."""


class ConflictError(LastingError):
    """The version given is stale: someone else changed the item."""


class InvalidDataError(LastingError):
    """The store refuses the data itself."""


class ProtocolError(LastingError):
    """The peer answered something that cannot be understood."""


class HostileInputError(ProtocolError):
    """Input that looks like an attack (entity expansion, external entities, oversize)."""


class StoreCrashed(StoreError):
    """Raised by the fault-injecting memory store to simulate the process dying."""


class FieldError(Exception):
    """One bad field: ``path`` like ``"phones.business"`` and what is wrong with it."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class MappingError(OxsyncError):
    """A native item could not be converted; ``errors`` lists every bad field."""

    def __init__(self, message: str, errors: Sequence[FieldError] = ()):
        details = "; ".join(str(e) for e in errors)
        super().__init__(f"{message}: {details}" if details else message)
        self.errors = tuple(errors)


class StateError(OxsyncError):
    """The state database cannot be used."""


class SchemaVersionError(StateError):
    """The state database was written by a newer oxsync."""


class SyncError(OxsyncError):
    """The engine refuses to continue."""


class SyncInProgressError(SyncError):
    """Another run (this process or another) is syncing the same pair of the same state."""


class UnknownFolderError(SyncError):
    """A slow sync of one folder named an id that is no folder of the pair (on either side):
    re-comparing nothing and reporting success would hide the typo."""


class MassDeleteError(SyncError):
    """A sync would delete more than the allowed share of a folder; pass ``force=True``."""

    def __init__(
        self,
        folder: str,
        side: str,
        count: int,
        total: int,
        limit: float,
        *,
        folder_gone: bool = False,
    ):
        if folder_gone:
            message = (
                f"folder {folder!r} is gone from the other side: refusing to delete it with "
                f"its {count} items on side {side} (a wrong or unmounted path? a folder "
                "deleted on purpose?); re-run with force to allow it"
            )
        else:
            if count == total:
                why = (
                    "the other side lists none of them any more (emptied by hand, or a wrong"
                    " or unmounted path?)"
                )
            else:
                why = f"limit {limit:.0%}"
            message = (
                f"refusing to delete {count} of {total} items in folder {folder!r} on side "
                f"{side} ({why}); re-run with force to allow it"
            )
        super().__init__(message)
        self.folder = folder
        self.side = side
        self.count = count
        self.total = total
        self.report: object = None  # the SyncReport of the run it stopped, when raised by sync()


_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization\s*[:=]\s*)(\S+(?:\s+\S+)?)"),
    re.compile(r"(?i)((?:set-)?cookie\s*[:=]\s*)([^\r\n]+)"),
    re.compile(r"(?i)((?:password|passwd|pwd|secret|token|sessionid)\s*[=:]\s*)([^\s&;,]+)"),
    re.compile(r"(?i)(://[^/:@\s]+:)([^@/\s]+)(@)"),
]


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """Return ``text`` with known secrets and credential-looking values replaced by ``***``.

    >>> redact("Authorization: Basic dXNlcjpwdw==")
    'Authorization: ***'
    >>> redact("login failed for pw hunter2", secrets=["hunter2"])
    'login failed for pw ***'
    """
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 3:
            text = pattern.sub(lambda m: m.group(1) + "***" + m.group(3), text)
        else:
            text = pattern.sub(lambda m: m.group(1) + "***", text)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text
