"""pytest plugin (entry point ``pytest11``): Hypothesis profiles and the ``oxsync`` marker.

Installing oxsync makes :class:`oxsync.testing.conformance.StoreContract` usable from any
test suite; this plugin registers the Hypothesis profiles ``dev`` (default) and ``ci``
(selected with ``HYPOTHESIS_PROFILE=ci``) that the suite's property tests use.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register Hypothesis profiles and the ``conformance`` marker."""
    config.addinivalue_line("markers", "conformance: oxsync store conformance tests")
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:  # Hypothesis is only needed for property tests
        return
    # dev (the default, and what CI runs) is derandomized: the same examples every run, so
    # a green build stays green; ci explores fresh random examples (HYPOTHESIS_PROFILE=ci).
    settings.register_profile(
        "dev", max_examples=50, deadline=None, derandomize=True, print_blob=True
    )
    settings.register_profile(
        "ci",
        max_examples=300,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
