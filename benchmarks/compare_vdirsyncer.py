"""``python -m benchmarks --compare-vdirsyncer``: oxsync and vdirsyncer on the same files.

Writes N contacts as ``.vcf`` files into one folder, then runs, each as a fresh process
(so both pay their start-up): vdirsyncer with two filesystem storages, and ``oxsync sync``
with two vdir stores, first an initial sync into an empty folder and then a no-op sync.
Needs the ``bench`` extra (``pip install -e '.[bench]'``) for vdirsyncer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oxsync.core.records import ItemKind
from oxsync.mappings.vcard import contact_to_vcard
from oxsync.testing.samples import sample

__all__ = ["compare"]


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}… failed: {proc.stderr[-2000:]}")
    return elapsed


def compare(items: int) -> dict[str, float]:
    """Run both tools on ``items`` contacts; returns seconds and ratios."""
    vdirsyncer = shutil.which("vdirsyncer") or str(Path(sys.executable).parent / "vdirsyncer")
    if not Path(vdirsyncer).exists():
        raise SystemExit("vdirsyncer is not installed: pip install -e '.[bench]'")
    with tempfile.TemporaryDirectory(prefix="oxsync-vs-vdirsyncer-") as tmp:
        root = Path(tmp)
        source = root / "source"
        source.mkdir()
        for i in range(items):
            record = sample(ItemKind.CONTACT, i)
            (source / f"{record.uid}.vcf").write_bytes(contact_to_vcard(record))
        # vdirsyncer: a -> b, collection given directly.
        for name in ("vds_a", "vds_b"):
            (root / name).mkdir()
        shutil.copytree(source, root / "vds_a" / "contacts")
        (root / "vds_b" / "contacts").mkdir()
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
        vds_initial = _timed([*vds, "sync"])
        vds_noop = _timed([*vds, "sync"])
        # oxsync: two vdir stores, same files.
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
        ox = [
            sys.executable,
            "-m",
            "oxsync.cli",
            "--config",
            str(root / "oxsync.toml"),
            "-q",
            "sync",
        ]
        ox_initial = _timed(ox)
        ox_noop = _timed(ox)
        copied = len(list((root / "ox_b" / "contacts").glob("*.vcf")))
        if copied != items:
            raise RuntimeError(f"oxsync copied {copied} of {items} files")
    return {
        "oxsync_initial": ox_initial,
        "vdirsyncer_initial": vds_initial,
        "initial_ratio": vds_initial / ox_initial,
        "oxsync_noop": ox_noop,
        "vdirsyncer_noop": vds_noop,
        "noop_ratio": vds_noop / ox_noop,
    }
