"""oxsync.testing."""
