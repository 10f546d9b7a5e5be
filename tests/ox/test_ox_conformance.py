"""OXStore passes the store conformance suite, in-process and over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from oxsync.adapters.ox import OXStore
from oxsync.testing.conformance import StoreContract
from oxsync.testing.oxserver import OXApp, OXBackend, OXPermission, OXTestServer
from oxsync.testing.oxserver._rules import OWNER_RIGHTS
from tests.ox.conftest import CANARY


class TestOXStoreInProcess(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[OXStore]:
        backend = OXBackend()
        alice = backend.add_user("alice", CANARY)
        backend.add_user("bob", CANARY)
        for module in ("contact", "calendar", "task"):  # bob's, alice may read only
            backend.add_folder(
                "bob",
                f"bob's {module}s",
                module,
                public=True,
                permissions=[
                    OXPermission(backend.user("bob").id, False, *OWNER_RIGHTS),
                    OXPermission(alice.id, False, 1, 4, 0, 0, False),
                ],
            )
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
