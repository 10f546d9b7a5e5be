"""Plain-data form of records and their fingerprints.

``to_data(record)`` turns a record into JSON-able plain data with cattrs (defaults
omitted, so adding a field with a default does not change existing fingerprints);
``from_data(kind, data)`` is the inverse. A :data:`Fingerprint` is a stable hash of that
data with the volatile fields (server timestamps) left out::

    >>> from oxsync.core.records import Contact
    >>> fingerprint(Contact(last_name="Curie")) == fingerprint(Contact(last_name="Curie"))
    True
    >>> fingerprint(Contact(last_name="Curie")) == fingerprint(Contact(last_name="Sklodowska"))
    False
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from oxsync.core import records as r
from oxsync.errors import FieldError, MappingError

__all__ = [
    "Fingerprint",
    "canonical",
    "converter",  # noqa: F822 (module __getattr__: built on first use)
    "dumps",
    "fingerprint",
    "fingerprint_of",
    "from_data",
    "loads",
    "to_data",
]

Fingerprint: TypeAlias = str
"""Hex digest identifying a record's content (volatile fields excluded)."""


def _dt_to_str(value: datetime | date) -> str:
    return value.isoformat()


def _str_to_date_or_datetime(value: Any, _: Any) -> datetime | date:
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


if TYPE_CHECKING:
    import cattrs


@cache
def _converter() -> cattrs.Converter:
    # Built on first use: importing cattrs and setting it up costs ~25 ms, which a
    # command that (un)structures nothing, such as a no-op sync, does not pay.
    import cattrs
    from cattrs.fns import identity
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, _dt_to_str)
    conv.register_unstructure_hook(date, _dt_to_str)
    conv.register_structure_hook(
        datetime, lambda v, _: v if isinstance(v, datetime) else datetime.fromisoformat(v)
    )
    conv.register_structure_hook(
        date, lambda v, _: v if isinstance(v, date) else date.fromisoformat(v)
    )
    for union in (datetime | date, datetime | date | None):
        conv.register_structure_hook(
            union,
            lambda v, _: None if v is None else _str_to_date_or_datetime(v, _),
        )
    conv.register_unstructure_hook(bytes, lambda b: base64.b64encode(b).decode("ascii"))
    conv.register_structure_hook(
        bytes, lambda v, _: v if isinstance(v, bytes) else base64.b64decode(v)
    )
    # Optional scalars unstructure to themselves: saying so lets cattrs inline them into
    # the generated functions instead of calling a wrapper per field (15 % of to_data).
    for optional in (str | None, int | None, bool | None, float | None):
        conv.register_unstructure_hook(optional, identity)
    # Generated on first use of each class, not at import: a command that never
    # (un)structures, such as a no-op sync, does not pay for code generation.
    classes = frozenset(_all_attrs_classes())
    conv.register_unstructure_hook_factory(
        classes.__contains__,
        lambda cls: make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True),
    )
    conv.register_structure_hook_factory(
        classes.__contains__,
        lambda cls: make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True),
    )
    return conv


def _all_attrs_classes() -> list[type[Any]]:
    return [
        obj
        for obj in vars(r).values()
        if isinstance(obj, type) and attrs.has(obj) and obj.__module__ == r.__name__
    ]


def __getattr__(name: str) -> Any:
    if name == "converter":  # the cattrs converter for records (defaults omitted)
        return _converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_VOLATILE_NAMES = {
    cls: frozenset(a.name for a in attrs.fields(cls) if a.metadata.get(r.VOLATILE))
    for cls in (r.Contact, r.DistributionList, r.Event, r.Task)
}


def to_data(record: r.Record | r.Folder) -> dict[str, Any]:
    """Plain data for a record (JSON-able; default values omitted)."""
    data: dict[str, Any] = _converter().unstructure(record)
    return data


def from_data(kind: r.ItemKind, data: dict[str, Any]) -> r.Record:
    """Inverse of :func:`to_data`; raises :class:`MappingError` naming every bad field."""
    cls = r.record_class(kind)
    try:
        return _converter().structure(data, cls)
    except Exception as exc:
        raise MappingError(f"cannot build {cls.__name__} from data", _field_errors(exc)) from exc


def _field_errors(exc: BaseException) -> list[FieldError]:
    """Every failing field with its path, via cattrs' own error transformer."""
    import cattrs

    if isinstance(exc, cattrs.BaseValidationError):
        out = []
        for message in cattrs.transform_error(exc, path="$"):
            text, _, path = message.rpartition(" @ ")
            out.append(FieldError(path.removeprefix("$.") or "$", text or message))
        return out
    return [FieldError("$", f"{type(exc).__name__}: {exc}")]


# One encoder for the hot path: json.dumps() with options builds a new encoder per call.
# ASCII output (non-ASCII escaped) also copes with lone surrogates in bad input. Records
# are trees (frozen values): no cycle to look for, so no per-container id bookkeeping
# (a third of the encoding time of a contact).
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, check_circular=False)


def dumps(record: r.Record) -> bytes:
    """Compact canonical JSON bytes of a record (the state's base-record format)."""
    return _ENCODER.encode(to_data(record)).encode("ascii")


def loads(kind: r.ItemKind, blob: bytes | str) -> r.Record:
    """Inverse of :func:`dumps`."""
    return from_data(kind, json.loads(blob))


def canonical(record: r.Record) -> tuple[bytes, Fingerprint]:
    """The record's canonical JSON (volatile fields left out) and its fingerprint.

    The engine stores the JSON as the base record and compares fingerprints; computing
    both at once serialises each record only once on the hot path.
    """
    data = to_data(record)
    for name in _VOLATILE_NAMES[type(record)]:
        data.pop(name, None)
    blob = _ENCODER.encode(data).encode("ascii")
    return blob, fingerprint_of(type(record), blob)


def fingerprint_of(kind_cls: type[r.Record], blob: bytes) -> Fingerprint:
    """The fingerprint of a record of class ``kind_cls`` whose canonical JSON is ``blob``."""
    return _blake2b(blob, digest_size=16, person=_PERSON[kind_cls]).hexdigest()


def fingerprint(record: r.Record) -> Fingerprint:
    """Stable hash of a record's content and kind, ignoring volatile fields."""
    return canonical(record)[1]


try:
    # hashlib's blake2b is this one; importing hashlib also initialises OpenSSL (~9 ms of
    # start-up) for digests oxsync does not use
    from _blake2 import blake2b as _blake2b
except ImportError:  # another Python implementation
    from hashlib import blake2b as _blake2b

_PERSON = {
    r.Contact: b"contact",
    r.DistributionList: b"distlist",
    r.Event: b"event",
    r.Task: b"task",
}
