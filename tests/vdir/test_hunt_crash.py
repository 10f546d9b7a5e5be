"""A crash or an OS error at any file-system call of a write: the item files stay whole
(the old content or the new, never half of one), a temporary file never becomes an item,
and only typed results come out of ``apply``."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import oxsync.adapters.vdir as vdir_module
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.store import (
    Applied,
    Create,
    Delete,
    Failure,
    Item,
    Move,
    Op,
    OpResult,
    Update,
)
from oxsync.errors import StoreError
from oxsync.testing.samples import sample

OS_CALLS = ("open", "write", "fsync", "fstat", "close", "replace", "unlink", "utime", "stat")


class Crash(BaseException):
    """The process dies at this call."""


@contextlib.contextmanager
def _faulty(call: str, nth: int, error: BaseException) -> Iterator[list[str]]:
    """Make the ``nth`` call of ``os.<call>`` (or of the no-replace rename, for
    "rename") raise ``error``; yields the calls seen (``nth`` 0: no fault)."""
    seen: list[str] = []

    def wrap(name: str, real: Any) -> Any:
        def call_it(*args: Any, **kwargs: Any) -> Any:
            seen.append(name)
            if name == call and seen.count(name) == nth:
                raise error
            return real(*args, **kwargs)

        return call_it

    patches = [mock.patch.object(os, name, wrap(name, getattr(os, name))) for name in OS_CALLS]
    rename = vdir_module._rename_noreplace()
    patches.append(mock.patch.object(vdir_module, "_RENAME_NOREPLACE", wrap("rename", rename)))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield seen


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".vcf",)}


def _setup(root: Path, fsync: str, op: str) -> tuple[VdirStore, str, Op, bytes, bytes]:
    store = VdirStore(root, fsync=fsync)
    other = store.create_folder("Other", FolderKind.CONTACTS)
    (created,) = store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(created, Applied)
    old = (root / "contacts" / created.id).read_bytes()
    new_record = sample(ItemKind.CONTACT, 1 if op == "same-update" else 2)
    ops: dict[str, Op] = {
        "create": Create(sample(ItemKind.CONTACT, 3)),
        "update": Update(created.id, new_record, created.version),
        "same-update": Update(created.id, new_record, created.version),
        "delete": Delete(created.id, created.version),
        "move": Move(created.id, other.id, created.version),
    }
    return store, other.id, ops[op], old, vdir_module._serialize(new_record, "3.0")


@pytest.mark.parametrize("rename", ["renameat2", "portable"])
@pytest.mark.parametrize("fsync", ["batch", "file", "off"])
@pytest.mark.parametrize("op", ["create", "update", "same-update", "delete", "move"])
def test_a_fault_at_any_call_leaves_whole_files_and_no_stray_item(
    op: str, fsync: str, rename: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file-system call the op makes (as recorded on a clean run) fails in turn, by
    a crash or by an OSError."""
    if rename == "portable":
        monkeypatch.setattr(vdir_module, "_RENAME_NOREPLACE", vdir_module._rename_checked)
    with tempfile.TemporaryDirectory() as tmp:
        store, _, clean_op, _, _ = _setup(Path(tmp), fsync, op)
        with _faulty("", 0, Crash()) as calls:
            store.apply("contacts", [clean_op])
    faults = sorted({(c, calls[: i + 1].count(c)) for i, c in enumerate(calls)})
    assert faults and ("write" in calls or op in ("delete", "move"))
    for (call, nth), crash in itertools.product(faults, (True, False)):
        _check(op, fsync, call, nth, crash)


def _check(op: str, fsync: str, call: str, nth: int, crash: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store, other, the_op, old, new = _setup(root, fsync, op)
        before = {"contacts": _files(root / "contacts"), other: _files(root / other)}
        error: BaseException = Crash() if crash else OSError(errno.EIO, "Input/output error")
        result: OpResult | None = None
        with _faulty(call, nth, error) as seen:
            try:
                (result,) = store.apply("contacts", [the_op])
            except Crash:
                assert crash
            except StoreError:  # a typed error for the whole call (the folder unreadable)
                assert not crash
        where = f"{op} with fsync={fsync}, {'crash' if crash else 'EIO'} at {call} #{nth}"
        assert seen.count(call) >= nth, where  # the fault was reached
        assert result is None or isinstance(result, Applied | Failure), where
        after = {"contacts": _files(root / "contacts"), other: _files(root / other)}
        # whole files only: the old state or the new one
        if op in ("update", "same-update"):
            assert after["contacts"][the_op.id] in (old, new), where  # type: ignore[union-attr]
        elif op == "delete":
            assert after["contacts"] in ({}, before["contacts"]), where
        elif op == "move":
            moved = list(after[other].values())
            assert (after["contacts"], moved) in ((before["contacts"], []), ({}, [old])), where
        else:
            added = {k: v for k, v in after["contacts"].items() if k not in before["contacts"]}
            assert len(added) <= 1, where
            assert all(b"oxsync-sample-contact-3" in v for v in added.values()), where
            kept = {k: after["contacts"][k] for k in before["contacts"]}
            assert kept == before["contacts"], where
        if isinstance(result, Applied) and op != "delete":
            folder = other if op == "move" else "contacts"
            got = store.fetch(folder, [result.id])[result.id]
            assert isinstance(got, Item) and got.version == result.version, where
        # what the next run sees: every listed file is a whole item, no temporary file
        fresh = VdirStore(root, fsync="off")
        for folder in ("contacts", other):
            ids = [ref.id for ref in fresh.changes(folder, None).changed]
            assert all(not i.startswith(".") for i in ids), where
            assert all(isinstance(g, Item) for g in fresh.fetch(folder, ids).values()), where
        if not crash:  # an error is cleaned up after: no temporary file is left behind
            hidden = [p.name for p in (root / "contacts").iterdir() if p.name.endswith(".tmp")]
            assert hidden == [], where
