"""Item versions of the OX store: OX's ``last_modified`` plus what one timestamp misses.

Grammar: ``<last_modified>[:<newest exception last_modified>][+att]``.

- ``:N``: a series with change exceptions (objects of their own); an edit of an
  exception object moves the version although the series' timestamp does not.
- ``+att``: the object had attachments when read, so a write of the item without them
  must delete them; an object without attachments (most contacts) costs no request to
  find out.

The version sent back as ``last_modified`` is :func:`stamp`: the newest timestamp in it.

    >>> compose("100", ["150", "120"], attached=True)
    '100:150+att'
    >>> split("100:150+att"), stamp("100:150+att")
    (('100', '150', True), '150')
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["attached", "compose", "split", "stamp", "with_attached"]

_ATTACHED = "+att"


def compose(last_modified: str, exceptions: Iterable[str] = (), *, attached: bool = False) -> str:
    """A version from the object's timestamp and its exceptions' timestamps."""
    newest = max((int(x or 0) for x in exceptions), default=None)
    version = last_modified if newest is None else f"{last_modified}:{newest}"
    return version + _ATTACHED if attached else version


def split(version: str) -> tuple[str, str | None, bool]:
    """``(last_modified, newest exception timestamp or None, attached)``."""
    is_attached = version.endswith(_ATTACHED)
    if is_attached:
        version = version[: -len(_ATTACHED)]
    own, _, newest = version.partition(":")
    return own, newest or None, is_attached


def stamp(version: str) -> str:
    """The ``last_modified`` to send: the newest timestamp of the version."""
    own, newest, _ = split(version)
    if newest is None:
        return own
    return str(max(int(own or 0), int(newest)))


def attached(version: str | None) -> bool:
    """Whether the item had attachments when this version was read."""
    return version is not None and version.endswith(_ATTACHED)


def with_attached(version: str, has_files: bool) -> str:
    """``version`` marked (or not) as having attachments."""
    own, newest, _ = split(version)
    return compose(own, [newest] if newest else [], attached=has_files)
