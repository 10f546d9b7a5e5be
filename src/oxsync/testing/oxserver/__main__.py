"""``python -m oxsync.testing.oxserver``: the OX test server as a process of its own.

For test harnesses that are not Python, or that want the server outside the process
under test: it serves the WebDAV/XML interface and UDP push on loopback until SIGINT or
SIGTERM, with the accounts given on the command line, optionally seeded. The data lives
in memory and is gone when the process ends.

    python -m oxsync.testing.oxserver --user alice:alice-pw --seed 100 --json

prints one line when it is ready (with ``--json`` a JSON object: ``url``, ``push``
[host, port], ``users``), then serves. Passwords are never printed. Exit codes: 0 after
a signal, 2 for bad arguments or a port that cannot be bound.
"""

from __future__ import annotations

import sys

from oxsync.testing.oxserver._serve import main

if __name__ == "__main__":
    sys.exit(main())
