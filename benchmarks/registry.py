"""Scenario registry: ``@scenario(name)`` marks a function ``setup(items) -> run``.

The setup is not timed; ``run()`` is, ``repeat`` times (the median is reported), so only
scenarios whose ``run`` can be repeated (no-op and one-change syncs) set ``repeat`` > 1.

``freeze_setup=True`` moves what the setup built out of the garbage collector's sight
(``gc.freeze()``) before timing. Scenarios whose setup stands in for another process (the
OX test server with its 10,000 objects, served in-process) set it: in production those
objects live in the server's process, and without the freeze every full collection
during the sync walks them (1.3 s of outlook.initial_from_ox's 4.8 s). Only initial
syncs set it (their setup holds nothing of the client's); what the sync itself creates
stays under the collector, as in production.
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import frozen

Setup = Callable[[int], Callable[[], object]]


@frozen
class Scenario:
    """A named benchmark."""

    name: str
    setup: Setup
    repeat: int = 1
    freeze_setup: bool = False


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, repeat: int = 1, freeze_setup: bool = False) -> Callable[[Setup], Setup]:
    """Register ``setup`` as the benchmark ``name``."""

    def register(setup: Setup) -> Setup:
        SCENARIOS[name] = Scenario(name, setup, repeat, freeze_setup)
        return setup

    return register
