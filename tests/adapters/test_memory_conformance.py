"""The memory store passes the conformance suite."""

import pytest

from oxsync.adapters.memory import MemoryStore
from oxsync.testing.conformance import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> MemoryStore:
        return MemoryStore()


class TestMemoryStoreWithoutDelta(StoreContract):
    @pytest.fixture
    def store(self) -> MemoryStore:
        return MemoryStore(delta=False, batch_size=10)
