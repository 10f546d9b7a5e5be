"""Ops of the wrong shape are refused by every store before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Applied, BaseStore, Create, Delete, Move, Update


def _stores(tmp_path: Path) -> list[BaseStore]:
    return [MemoryStore(name="m"), VdirStore(tmp_path / "vdir")]


def _contacts(store: BaseStore) -> str:
    return next(f.id for f in store.folders() if f.kind is FolderKind.CONTACTS)


BAD: list[tuple[Any, str]] = [
    (Update("1", "v1", Contact(uid="x")), "op 1 (Update): record must be a record, not str"),  # type: ignore[arg-type]
    (Create({"uid": "x"}), "op 1 (Create): record must be a record, not dict"),  # type: ignore[arg-type]
    (Update(1, Contact(uid="x")), "op 1 (Update): id must be a str, not int"),  # type: ignore[arg-type]
    (Delete("1", 5), "op 1 (Delete): version must be a str or None, not int"),  # type: ignore[arg-type]
    (Move("1", None), "op 1 (Move): to_folder must be a str, not NoneType"),  # type: ignore[arg-type]
    (("create", Contact(uid="x")), "op 1: expected Create, Update, Delete or Move, not tuple"),
]


@pytest.mark.parametrize(("op", "message"), BAD)
def test_a_bad_op_is_a_type_error_naming_it_and_nothing_is_written(
    tmp_path: Path, op: Any, message: str
) -> None:
    for store in _stores(tmp_path):
        folder = _contacts(store)
        with pytest.raises(TypeError) as exc:
            store.apply(folder, [Create(Contact(uid="good", last_name="Good")), op])
        assert str(exc.value) == message
        assert store.changes(folder, None).changed == []  # the good op was not applied either


def test_good_ops_still_apply(tmp_path: Path) -> None:
    for store in _stores(tmp_path):
        folder = _contacts(store)
        (done,) = store.apply(folder, [Create(Contact(uid="good", last_name="Good"))])
        assert isinstance(done, Applied)
        (again,) = store.apply(folder, [Update(done.id, Contact(uid="good"), done.version)])
        assert isinstance(again, Applied)
