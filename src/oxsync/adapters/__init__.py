"""Store adapters, found by name through the ``oxsync.adapters`` entry-point group.

The built-in adapters are also named in :data:`BUILT_IN`, so loading one does not scan
every installed distribution's entry points (40 ms at start-up); a third-party adapter
is found through its entry point and cannot shadow a built-in name.

>>> from oxsync.adapters import load_adapter
>>> load_adapter("memory").__name__
'MemoryStore'
"""

from __future__ import annotations

import importlib
from typing import Any

from oxsync.errors import ConfigError

__all__ = ["BUILT_IN", "adapter_names", "load_adapter"]

GROUP = "oxsync.adapters"

BUILT_IN = {
    "memory": "oxsync.adapters.memory:MemoryStore",
    "ox": "oxsync.adapters.ox:OXStore",
    "outlook": "oxsync.adapters.outlook:OutlookStore",
    "vdir": "oxsync.adapters.vdir:VdirStore",
}
"""The adapters shipped with oxsync (the same as their ``oxsync.adapters`` entry points)."""


def adapter_names() -> list[str]:
    """Names of every installed adapter (built-ins and third-party)."""
    from importlib.metadata import entry_points

    return sorted(set(BUILT_IN) | {ep.name for ep in entry_points(group=GROUP)})


def load_adapter(name: str) -> Any:
    """Import and return the store class registered as ``name`` (imported lazily)."""
    if name in BUILT_IN:
        module, _, attr = BUILT_IN[name].partition(":")
        return getattr(importlib.import_module(module), attr)
    from importlib.metadata import entry_points

    for ep in entry_points(group=GROUP):
        if ep.name == name:
            return ep.load()
    raise ConfigError(
        f"unknown store type {name!r}; installed: {', '.join(adapter_names()) or 'none'}"
    )
