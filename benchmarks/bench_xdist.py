"""Speed-up of the suite under pytest-xdist: `-n 2` against `-n 0`, side by side in one run.

Both runs use the embedded reference mocks, the same seed and the same example count; each is
repeated and the wall-clock times are summed before the ratio is taken.

    python benchmarks/bench_xdist.py [--max-examples 100] [--repeat 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(workers: str, max_examples: int, seed: int) -> float:
    with tempfile.TemporaryDirectory() as reports:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "conformance.suite",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            workers,
            "--dist",
            "loadscope",
            "--seed",
            str(seed),
            "--max-examples",
            str(max_examples),
            f"--report-dir={reports}",
        ]
        started = time.perf_counter()
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"the suite failed with -n {workers}:\n{proc.stdout[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    serial = parallel = 0.0
    for seed in range(1, args.repeat + 1):
        serial += run("0", args.max_examples, seed)
        parallel += run("2", args.max_examples, seed)
    print(f"suite against the embedded mocks, all vendors, max-examples {args.max_examples}, {args.repeat} seed(s)")
    print(f"  -n 0: {serial:6.2f} s")
    print(f"  -n 2: {parallel:6.2f} s")
    print(f"  speed-up of -n 2 over -n 0: {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
