"""Run benchmark scenarios, each in its own process (so peak RSS is its own).

    python -m benchmarks --items 10000 --json out.json [--scenario NAME ...]

Prints a table and writes ``{"items": N, "scenarios": {NAME: {"seconds": s,
"peak_rss_mb": m, ...}}}``; a scenario whose ``run()`` returns a dict of numbers adds them
(e.g. ``calls_per_item``). Seconds are the median of the scenario's repeats; peak RSS is the
process's maximum resident set (setup included).

Each scenario also reports ``cpu_ref`` (seconds of ``sum(range(30_000_000))`` timed in the
same process, right after the scenario): a reading of the machine's speed at that moment.
On a shared VM it swings (0.50 s in quick phases to 0.95 s in slow ones on the one the
figures in RESULTS.md come from), and every figure swings with it; compare runs by it.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import resource
import statistics
import subprocess
import sys
import time

from benchmarks import SCENARIO_MODULES
from benchmarks.registry import SCENARIOS


def _load() -> None:
    for name in SCENARIO_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # an area whose adapter is not installed
            print(f"skipping {name}: {exc}", file=sys.stderr)


def _run_one(name: str, items: int) -> dict[str, float]:
    _load()
    sc = SCENARIOS[name]
    run = sc.setup(items)
    if sc.freeze_setup:  # the setup stands in for another process: see registry.py
        gc.collect()
        gc.freeze()
    times = []
    extra: dict[str, float] = {}
    for _ in range(sc.repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
        if isinstance(result, dict):  # a scenario may report figures of its own
            extra = {k: float(v) for k, v in result.items()}
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": statistics.median(times),
        "peak_rss_mb": round(rss_kb / 1024, 1),
        **extra,
        "cpu_ref": round(cpu_reference(), 3),
    }


def cpu_reference() -> float:
    """Seconds of a fixed pure-Python loop: the machine's speed now (see the docstring)."""
    started = time.perf_counter()
    sum(range(30_000_000))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--list", action="store_true")
    parser.add_argument(
        "--compare-vdirsyncer",
        action="store_true",
        help="also run vdirsyncer on the same files and print the ratios",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of the vdirsyncer comparison (medians are reported)",
    )
    parser.add_argument("--_one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._one:
        print(json.dumps(_run_one(args._one, args.items)))
        return 0
    _load()
    if args.list:
        print("\n".join(sorted(SCENARIOS)))
        return 0
    names = args.scenario or ([] if args.compare_vdirsyncer else sorted(SCENARIOS))
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    results: dict[str, dict[str, float]] = {}
    print(f"{'scenario':<42} {'seconds':>10} {'peak RSS MB':>12}")
    for name in names:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--items", str(args.items), "--_one", name],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"{name:<42} FAILED\n{proc.stderr[-2000:]}")
            continue
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = results[name]
        extras = "  ".join(
            f"{k}={v:g}" for k, v in r.items() if k not in ("seconds", "peak_rss_mb")
        )
        print(f"{name:<42} {r['seconds']:>10.4f} {r['peak_rss_mb']:>12.1f}  {extras}")
    output: dict[str, object] = {"items": args.items, "scenarios": results}
    if args.compare_vdirsyncer:
        from benchmarks.compare_vdirsyncer import compare

        ratios = compare(args.items, args.rounds)
        output["compare_vdirsyncer"] = ratios
        print(
            f"vdirsyncer comparison ({args.items} contacts, fresh processes, "
            f"median of {args.rounds} rounds):"
        )
        print(
            f"  initial: oxsync {ratios['oxsync_initial']:.2f}s, vdirsyncer "
            f"{ratios['vdirsyncer_initial']:.2f}s -> oxsync {ratios['initial_ratio']:.1f}x faster"
            f"  (ranges {ratios['oxsync_initial_min']:.2f}-{ratios['oxsync_initial_max']:.2f}s, "
            f"{ratios['vdirsyncer_initial_min']:.2f}-{ratios['vdirsyncer_initial_max']:.2f}s)"
        )
        print(
            f"  no-op:   oxsync {ratios['oxsync_noop']:.2f}s, vdirsyncer "
            f"{ratios['vdirsyncer_noop']:.2f}s -> oxsync {ratios['noop_ratio']:.1f}x faster"
            f"  (ranges {ratios['oxsync_noop_min']:.2f}-{ratios['oxsync_noop_max']:.2f}s, "
            f"{ratios['vdirsyncer_noop_min']:.2f}-{ratios['vdirsyncer_noop_max']:.2f}s)"
        )
        for run in ("initial", "noop"):
            print(
                f"  CPU of the {run} (user + system, medians): "
                + ", ".join(
                    f"{tool} {ratios[f'{tool}_{run}_user']:.2f}"
                    f" + {ratios[f'{tool}_{run}_sys']:.2f}s"
                    for tool in ("oxsync", "vdirsyncer")
                )
            )
    if args.json_path:
        with open(args.json_path, "w") as fh:
            json.dump(output, fh, indent=2)
    return 0 if len(results) == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
