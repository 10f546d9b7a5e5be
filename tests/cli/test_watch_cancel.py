"""`oxsync watch`: the first SIGINT/SIGTERM ends the syncs in progress at their next batch
(the engine's cancel point), not at their end; the next run finishes the work."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.cli.test_hunt_watch import _assert_converged_after_a_sync, _vdir_pair, _watch


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_stops_a_long_first_sync_at_its_next_batch(
    tmp_path: Path, sig: signal.Signals
) -> None:
    # was: the first signal let a 1,500-item first sync run to its end (up to 30 s more)
    config = _vdir_pair(tmp_path, 1500)
    written = tmp_path / "vb" / "contacts"
    proc = _watch(config, "--no-push")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(list(written.glob("*.vcf"))) < 50:
            time.sleep(0.02)
        proc.send_signal(sig)
        started = time.monotonic()
        out, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, (out, err)  # a clean stop, not an interruption
    assert "stopped" in out and "Traceback" not in err
    assert "cancelled" in out  # the summary of the sync it ended
    assert len(list(written.glob("*.vcf"))) < 1500, "the sync went on to its end"
    assert elapsed < 10
    _assert_converged_after_a_sync(config, tmp_path, 1500)
