"""``records.constructor``: the decoders' fast path builds the same records as the classes."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.testing import strategies as gen

RECORD_CLASSES = [cls for cls in vars(r).values() if isinstance(cls, type) and attrs.has(cls)]


def _fields(record: Any) -> dict[str, Any]:
    return {a.alias: getattr(record, a.name) for a in attrs.fields(type(record))}


@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=lambda c: c.__name__)
def test_every_record_class_gets_the_fast_path(cls: type[Any]) -> None:
    # the twin trick needs identical slot layouts: a regression (say, a __weakref__ slot
    # coming back) would silently fall back to the slow constructor
    assert r.constructor(cls) is not cls
    assert r.constructor(cls) is r.constructor(cls)


@given(st.sampled_from(list(ItemKind)).flatmap(gen.records))
def test_same_record_as_the_class(record: Any) -> None:
    cls = type(record)
    fields = _fields(record)
    built = r.constructor(cls)(**fields)
    assert type(built) is cls
    assert built == record == cls(**fields)
    assert hash(built) == hash(record)
    assert repr(built) == repr(record)
    assert attrs.evolve(built) == record
    assert pickle.loads(pickle.dumps(built)) == record
    assert copy.deepcopy(built) == record


def test_built_records_stay_frozen_and_slotted() -> None:
    contact = r.constructor(r.Contact)(first_name="Ada", phones=r.Phones(home="1"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        contact.first_name = "Grace"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        contact.not_a_field = 1  # type: ignore[attr-defined]
    assert not hasattr(contact, "__dict__")
    assert contact.last_name is None and contact.emails == r.Emails()


def test_errors_are_those_of_the_class() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        r.constructor(r.Contact)(nope=1)
    with pytest.raises(TypeError, match=r"Event.__init__\(\) missing 2 required"):
        r.constructor(r.Event)(summary="x")


def test_classes_the_twin_cannot_stand_for_keep_their_own_constructor() -> None:
    @attrs.frozen(kw_only=True)
    class Checked:
        n: int = attrs.field(default=0, validator=attrs.validators.ge(0))

    @attrs.frozen(kw_only=True)  # a __weakref__ slot after the fields: layouts differ
    class WithWeakref:
        n: int = 0

    assert r.constructor(Checked) is Checked
    with pytest.raises(ValueError):
        r.constructor(Checked)(n=-1)  # the validator still runs
    assert r.constructor(WithWeakref) is WithWeakref


@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=lambda c: c.__name__)
def test_the_positional_constructor_builds_the_same_record(cls: type[Any]) -> None:
    fields = attrs.fields(cls)
    defaults = [a.default for a in fields]
    build = r.positional_constructor(cls)
    assert build is not cls and build is r.positional_constructor(cls)
    if attrs.NOTHING not in defaults:
        built = build(*defaults)
        assert type(built) is cls and built == cls()
    with pytest.raises(TypeError, match="values"):
        build(*defaults[:-1])  # one short: never filled in with a default


@given(st.sampled_from(list(ItemKind)).flatmap(gen.records))
def test_positional_and_keyword_builds_agree(record: Any) -> None:
    cls = type(record)
    built = r.positional_constructor(cls)(*(getattr(record, a.name) for a in attrs.fields(cls)))
    assert type(built) is cls
    assert built == record and hash(built) == hash(record) and repr(built) == repr(record)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.uid = "x"


def test_positional_construction_of_a_class_the_twin_cannot_stand_for() -> None:
    @attrs.frozen(kw_only=True)
    class Checked:
        n: int = attrs.field(default=0, validator=attrs.validators.ge(0))
        label: str

    build = r.positional_constructor(Checked)
    assert build(3, "x") == Checked(n=3, label="x")
    with pytest.raises(ValueError):
        build(-1, "x")  # the validator still runs
    with pytest.raises(TypeError, match="takes 2 values"):
        build(1)
