"""`conformance publish` on a large history: N runs of V vendors, all at once and then one more run.

The runs are synthetic but shaped like real ones (16 checks per vendor, failures with request and
response bodies of a few KiB that come and go over time, a spec upgrade halfway). Prints the wall
time of each publish and the size of the site against the size of the run files.

    python benchmarks/bench_publish.py [--runs 200] [--vendors 4]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conformance.catalogue import ALL_CHECKS
from conformance.publish import publish
from conformance.reports.json import dumps, render_json
from conformance.results import CheckResult, Exchange, Failure, RunResult, VendorRun

CHECKS = ALL_CHECKS  # the catalogue's checks, in its order
OPERATION = "POST /v1/threads"


def make_run(n: int, vendors: int, rng: random.Random) -> RunResult:
    started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n)
    run = RunResult(
        tool_version="0.1.0", schemathesis_version="4.32.5", seed=n, started_at=started.isoformat(),
        finished_at=(started + timedelta(minutes=3)).isoformat(),
    )  # fmt: skip
    for v in range(vendors):
        key = f"vendor{v}"
        version = "1.0.0" if n < 100 else "2.0.0"
        run.vendors.append(
            VendorRun(
                key, f"Vendor {v}", f"Vendor {v} API", version, f"https://api.vendor{v}.example", [OPERATION], 160
            )
        )
        for check in CHECKS:
            failures = []
            for k in range(3):
                if rng.random() < 0.08:
                    body = {"title": "x" * rng.randint(100, 2000), "metadata": {"k": list(range(50))}}
                    exchange = Exchange(
                        "POST", f"https://api.vendor{v}.example/v1/threads", {}, body, 500, {}, "e" * 3000
                    )
                    failures.append(
                        Failure(check, f"{check} failure {k}", "message " * 40, exchange, "curl " + "y" * 2000)
                    )
            outcome = "failed" if failures else "passed"
            run.results.append(CheckResult(key, OPERATION, check, outcome, cases=120, failures=failures))  # type: ignore[arg-type]
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--vendors", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as work:
        base = Path(work)
        files = []
        for n in range(args.runs + 1):
            path = base / "runs" / f"run{n}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dumps(render_json(make_run(n, args.vendors, rng))), encoding="utf-8")
            files.append(path)
        inputs = sum(p.stat().st_size for p in files[:-1])
        site = base / "site"
        start = time.perf_counter()
        publish(files[:-1], site)
        first = time.perf_counter() - start
        start = time.perf_counter()
        publish(files[-1:], site)
        one_more = time.perf_counter() - start
        size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
        reports = sum(p.stat().st_size for p in (site / "runs").rglob("*.html"))
        index = (site / "index.json").stat().st_size
        print(f"{args.runs} runs x {args.vendors} vendors: publish {first:.1f} s; one more run {one_more:.2f} s")
        print(
            f"run files {inputs / 1e6:.1f} MB; site {size / 1e6:.1f} MB "
            f"(run reports {reports / 1e6:.1f} MB, index.json {index / 1e6:.2f} MB)"
        )


if __name__ == "__main__":
    main()
