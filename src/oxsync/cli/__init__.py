"""The ``oxsync`` command line.

Commands: ``sync``, ``slowsync``, ``watch``, ``status``, ``ignored``, ``folders``,
``freebusy``, ``doctor``, ``diagnostics export`` and ``demo``. Every command takes
``--config`` (or ``$OXSYNC_CONFIG``), ``-v``/``-q`` and ``--json``.

Exit codes (also in ``docs/cli.md``):

=== ==========================================================================
0   success
1   the sync ran but some folders are incomplete or had errors
2   bad usage or configuration
3   the mass-delete brake stopped a sync (re-run with ``--force``)
4   a store could not be reached (network, timeout, server error)
5   a store refused for a lasting reason (authentication, permission, protocol)
6   another run holds the pair or the state file
130 interrupted mid-sync (Ctrl-C); the next run finishes what it started
=== ==========================================================================
"""

from __future__ import annotations

from oxsync.cli._main import EXIT, cli, main

__all__ = ["EXIT", "cli", "main"]
