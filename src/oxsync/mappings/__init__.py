"""oxsync.mappings."""
