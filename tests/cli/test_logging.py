"""The CLI's log file: redacted, rotating, and opened only when something is logged."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import logging, sys
from pathlib import Path
from oxsync.cli._runtime import Redactor, setup_logging

path = setup_logging(0, Path(sys.argv[1]))
assert path is not None and path.exists()
assert "logging.handlers" not in sys.modules, "imported before anything was logged"
log = logging.getLogger("oxsync.test")
log.debug("below the file's level")
assert "logging.handlers" not in sys.modules
for handler in logging.getLogger("oxsync").handlers:
    for f in handler.filters:
        if isinstance(f, Redactor):
            f.secrets.add("canary-s3cret")
log.info("logged in with canary-s3cret")
big = "x" * 2000
for _ in range(600):  # 1.2 MB: one rollover
    log.info(big)
assert "logging.handlers" in sys.modules
print(path)
"""


def test_log_file_is_opened_on_first_record_redacted_and_rotated(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    rotated = path.with_name(path.name + ".1")
    assert rotated.exists() and path.stat().st_size < 1_000_000
    text = rotated.read_text() + path.read_text()
    assert "logged in with" in text and "canary-s3cret" not in text
    assert "below the file's level" not in text


def test_an_unwritable_log_directory_means_no_log_file(tmp_path: Path) -> None:
    from oxsync.cli._runtime import setup_logging

    logger = logging.getLogger("oxsync")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    blocker = tmp_path / "file"
    blocker.write_text("")
    try:
        assert setup_logging(0, blocker / "logs") is None  # a file where the folder should be
        assert [type(h) for h in logger.handlers] == [logging.StreamHandler]
    finally:
        logger.handlers[:], logger.propagate, logger.level = saved
