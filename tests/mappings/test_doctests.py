"""The examples in the mapping modules' docstrings run."""

from __future__ import annotations

import doctest

import pytest

from oxsync.mappings import outlook, ox_xml, recurrence, values


@pytest.mark.parametrize("module", [values, recurrence, ox_xml, outlook], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
