"""Store adapters, found by name through the ``oxsync.adapters`` entry-point group.

>>> from oxsync.adapters import load_adapter
>>> load_adapter("memory").__name__
'MemoryStore'
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from oxsync.errors import ConfigError

__all__ = ["adapter_names", "load_adapter"]

GROUP = "oxsync.adapters"


def adapter_names() -> list[str]:
    """Names of every installed adapter (built-ins and third-party)."""
    return sorted(ep.name for ep in entry_points(group=GROUP))


def load_adapter(name: str) -> Any:
    """Import and return the store class registered as ``name`` (imported lazily)."""
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            return ep.load()
    raise ConfigError(
        f"unknown store type {name!r}; installed: {', '.join(adapter_names()) or 'none'}"
    )
