"""oxsync: keep contacts, appointments and tasks in step between two stores.

The public surface::

    from oxsync import SyncEngine, Policy
    from oxsync.adapters.memory import MemoryStore
    from oxsync.core.state import State

    engine = SyncEngine(MemoryStore(), MemoryStore(), state=State(":memory:"))
    report = engine.sync()
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Policy", "State", "SyncEngine", "SyncReport", "__version__"]

_LAZY = {
    "SyncEngine": "oxsync.core.engine",
    "SyncReport": "oxsync.core.engine",
    "Policy": "oxsync.core.policy",
    "State": "oxsync.core.state",
}


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import oxsync` stays cheap for CLI start-up.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'oxsync' has no attribute {name!r}")
