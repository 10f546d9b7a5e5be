"""Shared checks for engine tests."""

from __future__ import annotations

from collections import Counter

from oxsync.adapters.memory import MemoryStore
from oxsync.core.serial import fingerprint


def contents(store: MemoryStore, folder: str) -> dict[str, str]:
    """``{uid: fingerprint}`` of a folder; asserts no uid appears twice."""
    records = list(store.records(folder).values())
    uids = Counter(r.uid for r in records)
    dupes = [u for u, n in uids.items() if n > 1]
    assert not dupes, f"duplicate items in {store.name}/{folder}: {dupes[:5]}"
    return {r.uid: fingerprint(r) for r in records if r.uid}


def assert_converged(a: MemoryStore, b: MemoryStore, folder_a: str, folder_b: str) -> None:
    """Both folders hold the same items with the same content, no duplicates."""
    ca, cb = contents(a, folder_a), contents(b, folder_b)
    assert ca.keys() == cb.keys(), (
        f"only on A: {sorted(ca.keys() - cb.keys())[:5]}, "
        f"only on B: {sorted(cb.keys() - ca.keys())[:5]}"
    )
    different = [u for u in ca if ca[u] != cb[u]]
    assert not different, f"content differs for {different[:5]}"
