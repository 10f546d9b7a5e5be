"""The vdir store passes the store conformance suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxsync.adapters.vdir import VdirStore
from oxsync.testing.conformance import StoreContract


class TestVdirConformance(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> VdirStore:
        return VdirStore(tmp_path / "vdir", fsync=False)
