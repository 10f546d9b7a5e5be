"""oxsync.core: records, store protocol, state, detect → plan → execute, triggers.

Imports nothing from adapters, mappings or the CLI.
"""
