"""oxsync benchmarks on 10,000-item folders: ``python -m benchmarks --help``.

Each area registers scenarios in its own module; list the module here.
"""

SCENARIO_MODULES = [
    "benchmarks.mapping",
    "benchmarks.memory",
    "benchmarks.outlook",
    "benchmarks.ox",
    "benchmarks.vdir",
]
