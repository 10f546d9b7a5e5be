"""The benchmark runner works end to end on a small folder (figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_runner_writes_json_for_selected_scenarios(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--items",
            "50",
            "--json",
            str(out),
            "--scenario",
            "memory.initial",
            "--scenario",
            "memory.noop",
            "--scenario",
            "outlook.noop",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["items"] == 50
    assert set(data["scenarios"]) == {"memory.initial", "memory.noop", "outlook.noop"}
    for figures in data["scenarios"].values():
        assert figures["seconds"] > 0 and figures["peak_rss_mb"] > 0
    assert data["scenarios"]["outlook.noop"]["calls_per_item"] > 0


def test_unknown_scenario_is_refused() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--scenario", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2 and "unknown scenario" in proc.stderr
