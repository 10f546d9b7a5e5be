"""OutlookStore over the fake object model passes the store conformance suite."""

import pytest

from oxsync.adapters.outlook import OutlookStore
from oxsync.testing.conformance import StoreContract
from oxsync.testing.outlook import Application


class TestOutlookStoreConformance(StoreContract):
    @pytest.fixture
    def store(self) -> OutlookStore:
        return OutlookStore(Application(tz="Europe/Paris", list_separator=";"))


class TestOutlookStoreConformanceCommaSeparator(StoreContract):
    @pytest.fixture
    def store(self) -> OutlookStore:
        return OutlookStore(Application(tz="America/New_York", list_separator=","))
