"""Scenario registry: ``@scenario(name)`` marks a function ``setup(items) -> run``.

The setup is not timed; ``run()`` is, ``repeat`` times (the median is reported), so only
scenarios whose ``run`` can be repeated (no-op and one-change syncs) set ``repeat`` > 1.
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


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, repeat: int = 1) -> Callable[[Setup], Setup]:
    """Register ``setup`` as the benchmark ``name``."""

    def register(setup: Setup) -> Setup:
        SCENARIOS[name] = Scenario(name, setup, repeat)
        return setup

    return register
