"""Error tree, redaction, public surface."""

from __future__ import annotations

import oxsync
from oxsync import errors
from oxsync.adapters import adapter_names, load_adapter


def test_redact_hides_credentials() -> None:
    text = (
        "Authorization: Basic dXNlcjpwYXNz\nCookie: sessionid=abc123\n"
        "https://bob:hunter2@ox.example/ password=s3cret&x=1"
    )
    out = errors.redact(text, secrets=["pass"])
    for secret in ("dXNlcjpwYXNz", "abc123", "hunter2", "s3cret"):
        assert secret not in out


def test_every_error_derives_from_oxsync_error() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and obj is not errors.FieldError:
            assert issubclass(obj, errors.OxsyncError), name


def test_built_in_adapters_are_registered_by_entry_point() -> None:
    assert {"memory", "ox", "outlook", "vdir"} <= set(adapter_names())
    assert load_adapter("memory").__name__ == "MemoryStore"


def test_top_level_exports() -> None:
    assert oxsync.SyncEngine.__name__ == "SyncEngine"
    assert oxsync.Policy.MERGE.name == "merge"


def test_built_in_adapter_table_matches_the_entry_points() -> None:
    from importlib.metadata import entry_points

    from oxsync.adapters import BUILT_IN, adapter_names

    declared = {ep.name: ep.value for ep in entry_points(group="oxsync.adapters")}
    assert {k: declared[k] for k in BUILT_IN} == BUILT_IN
    assert set(BUILT_IN) <= set(adapter_names())
