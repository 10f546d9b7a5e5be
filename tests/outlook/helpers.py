"""Helpers shared by the Outlook tests."""

from __future__ import annotations

from typing import Any

from oxsync.core.records import FolderKind


def default(store: Any, kind: FolderKind) -> str:
    """The id of the store's default folder of ``kind``."""
    return next(f.id for f in store.folders() if f.kind is kind and f.is_default)
