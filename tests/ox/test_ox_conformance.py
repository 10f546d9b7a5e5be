"""OXStore passes the store conformance suite, in-process and over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from oxsync.adapters.ox import OXStore
from oxsync.testing.conformance import StoreContract
from oxsync.testing.oxserver import OXApp, OXBackend, OXTestServer
from tests.ox.conftest import CANARY


class TestOXStoreInProcess(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[OXStore]:
        backend = OXBackend()
        backend.add_user("alice", CANARY)
        s = OXStore(
            "http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=OXApp(backend))
        )
        yield s
        s.close()


class TestOXStoreLoopback(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[OXStore]:
        backend = OXBackend()
        backend.add_user("alice", CANARY)
        with OXTestServer(backend) as server:
            s = OXStore(server.url, "alice", CANARY, timeout=5.0)
            yield s
            s.close()
