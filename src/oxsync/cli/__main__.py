"""``python -m oxsync.cli``: the same as the ``oxsync`` command."""

from oxsync.cli import main

main()
