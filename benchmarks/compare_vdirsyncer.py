"""``python -m benchmarks --compare-vdirsyncer``: oxsync and vdirsyncer on the same files.

Writes N contacts as ``.vcf`` files into one folder, then runs, each as a fresh process
(so both pay their start-up): vdirsyncer with two filesystem storages, and ``oxsync sync``
with two vdir stores, first an initial sync into an empty folder and then a no-op sync;
several rounds, alternating which tool goes first, reporting medians.
Needs the ``bench`` extra (``pip install -e '.[bench]'``) for vdirsyncer.
"""

from __future__ import annotations

import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import oxsync
from oxsync.core.records import ItemKind
from oxsync.mappings.vcard import contact_to_vcard
from oxsync.testing.samples import sample

__all__ = ["compare"]


def _timed(argv: list[str]) -> tuple[float, float, float]:
    """Wall, user and system seconds of one run of ``argv`` (a child process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}… failed: {proc.stderr[-2000:]}")
    return elapsed, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def compare(items: int, rounds: int = 3) -> dict[str, float]:
    """Run both tools on ``items`` contacts ``rounds`` times, alternating which goes first.

    Each round starts both from an empty target (initial sync) and then syncs again
    (no-op). Figures are medians over the rounds, so one disturbed run (this kind of
    shared VM swings 2x from minute to minute) does not decide the ratio.
    """
    vdirsyncer = shutil.which("vdirsyncer") or str(Path(sys.executable).parent / "vdirsyncer")
    if not Path(vdirsyncer).exists():
        raise SystemExit("vdirsyncer is not installed: pip install -e '.[bench]'")
    times: dict[str, list[float]] = {
        f"{tool}_{run}{part}": []
        for tool in ("oxsync", "vdirsyncer")
        for run in ("initial", "noop")
        for part in ("", "_user", "_sys")
    }
    # pip byte-compiles vdirsyncer when it installs it; an editable oxsync is compiled on
    # first import, unless PYTHONDONTWRITEBYTECODE forbids writing the cache (then every
    # run would compile ~20 modules again: 70 ms of a 0.5 s no-op). Compile it likewise.
    compileall.compile_dir(Path(oxsync.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="oxsync-vs-vdirsyncer-") as tmp:
        root = Path(tmp)
        source = root / "source"
        source.mkdir()
        for i in range(items):
            record = sample(ItemKind.CONTACT, i)
            (source / f"{record.uid}.vcf").write_bytes(contact_to_vcard(record))
        for n in range(rounds):
            runs = [_vdirsyncer_round, _oxsync_round]
            for run in runs if n % 2 == 0 else runs[::-1]:
                # Each run in a folder of its own, nothing deleted until the end (see
                # the note on inode allocation below)
                work = root / f"{run.__name__.strip('_')}{n}"
                work.mkdir()
                tool, initial, noop = run(vdirsyncer, work, source, items)
                for name, measured in (("initial", initial), ("noop", noop)):
                    for part, value in zip(("", "_user", "_sys"), measured, strict=True):
                        times[f"{tool}_{name}{part}"].append(value)
    out = {name: statistics.median(values) for name, values in times.items()}
    out["initial_ratio"] = out["vdirsyncer_initial"] / out["oxsync_initial"]
    out["noop_ratio"] = out["vdirsyncer_noop"] / out["oxsync_noop"]
    out["rounds"] = rounds
    for name, values in times.items():
        if not name.endswith(("_user", "_sys")):
            out[f"{name}_min"], out[f"{name}_max"] = min(values), max(values)
    return out


def _settle() -> None:
    """Write back what the set-up (and the previous tool) left dirty, before timing.

    oxsync's vdir makes each batch durable with one ``syncfs`` (vdirsyncer does not sync),
    and ``syncfs`` flushes every dirty page of the filesystem: without this, oxsync's
    first batch would pay for writing back the 10,000 files the set-up just copied and
    those the other tool just wrote (seen: 6 s against 12 s for the same run).
    """
    os.sync()
    time.sleep(0.5)


# Why no run deletes the previous run's files: on ext4 without a journal (this VM's root
# file system), allocating an inode skips, one by one, every free inode of the block group
# deleted in the last 60 s (300 s while its table block is dirty): ``recently_deleted()``
# in ``find_inode_bit()``. Right after 20,000 files were deleted, each of a run's 10,000
# file creations scans past thousands of them. ``perf record`` showed 40 % of an initial
# sync in that scan (6-8 s of system time instead of ~1.2 s), for whichever tool happened
# to follow a deletion. Fresh folders per run, removed with the whole tree at the end,
# keep that cost out of both tools' figures.


def _vdirsyncer_round(
    vdirsyncer: str, root: Path, source: Path, items: int
) -> tuple[str, tuple[float, float, float], tuple[float, float, float]]:
    (root / "vds_a").mkdir()
    (root / "vds_b" / "contacts").mkdir(parents=True)
    shutil.copytree(source, root / "vds_a" / "contacts")
    (root / "vdirsyncer.conf").write_text(f"""
[general]
status_path = "{root / "vds_status"}/"

[pair bench]
a = "bench_a"
b = "bench_b"
collections = ["contacts"]
conflict_resolution = "a wins"

[storage bench_a]
type = "filesystem"
path = "{root / "vds_a"}/"
fileext = ".vcf"

[storage bench_b]
type = "filesystem"
path = "{root / "vds_b"}/"
fileext = ".vcf"
""")
    vds = [vdirsyncer, "-c", str(root / "vdirsyncer.conf")]
    subprocess.run([*vds, "discover"], capture_output=True, check=True, input=b"y\n")
    _settle()
    initial = _timed([*vds, "sync"])
    noop = _timed([*vds, "sync"])
    return "vdirsyncer", initial, noop


def _oxsync_round(
    vdirsyncer: str, root: Path, source: Path, items: int
) -> tuple[str, tuple[float, float, float], tuple[float, float, float]]:
    shutil.copytree(source, root / "ox_a" / "contacts")
    (root / "oxsync.toml").write_text(f"""
[stores.a]
type = "vdir"
path = "{root / "ox_a"}"

[stores.b]
type = "vdir"
path = "{root / "ox_b"}"

[pairs.bench]
a = "a"
b = "b"
modules = ["contacts"]
conflict = "a-wins"
state_path = "{root / "oxsync-state.sqlite"}"
""")
    ox = [sys.executable, "-m", "oxsync.cli", "--config", str(root / "oxsync.toml"), "-q", "sync"]
    _settle()
    initial = _timed(ox)
    noop = _timed(ox)
    copied = len(list((root / "ox_b" / "contacts").glob("*.vcf")))
    if copied != items:
        raise RuntimeError(f"oxsync copied {copied} of {items} files")
    return "oxsync", initial, noop
