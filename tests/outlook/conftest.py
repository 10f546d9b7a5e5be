"""Fixtures shared by the Outlook tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from oxsync.adapters.ox import OXStore
from oxsync.testing.oxserver import OXApp, OXBackend


@pytest.fixture
def backend() -> OXBackend:
    """A fresh OX test server's data, with user alice (the ``ox`` fixture's server)."""
    backend = OXBackend()
    backend.add_user("alice", "alice-pw", display_name="Alice Adams")
    return backend


@pytest.fixture
def ox(backend: OXBackend) -> Iterator[OXStore]:
    """An OX store on a fresh in-process test server (user alice)."""
    store = OXStore(
        "http://ox.test", "alice", "alice-pw", transport=httpx.WSGITransport(app=OXApp(backend))
    )
    yield store
    store.close()
