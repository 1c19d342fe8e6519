"""Our suite vs Schemathesis's CLI (`st run`) on the same spec, mock and example count, side by side.

Prints cases per second for each and the ratio, measured in one run. Also prints what each found
against the *conforming* reference mock: plain `st run` reports the undocumented 401 that
SeekrFlow's spec cannot express. Both run every case (`st run --continue-on-failure`). Ours is timed
in-process through the engine's entry point, `conformance.api.run` (no pytest start-up); `st run`
includes its process start-up, which the printout says. Both use the same warm Hypothesis cache (its
Unicode tables, about 1 s of CPU to build) and neither keeps an example database, as in bench_speed.py.

    python benchmarks/bench_vs_schemathesis.py [--vendor seekrflow] [--max-examples 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.api import make_settings, run
from conformance.cli import _user_cache
from conformance.mock import create_app
from conformance.server import running_server
from conformance.vendors import FALLBACK_TOKEN_ENV, select_vendors

TOKEN = "bench-token"
# `st run` started in a fresh directory would build Hypothesis's Unicode tables on every run and look slower than
# it is: both tools use the per-user cache that `conformance run` uses by default.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(_user_cache() / "hypothesis"))


def ours(profile: object, url: str, max_examples: int, seed: int) -> tuple[int, float, int]:
    """One whole run through the engine's public entry point (no pytest), timed."""
    os.environ[FALLBACK_TOKEN_ENV] = TOKEN
    settings = make_settings(
        vendors=[profile.key],  # type: ignore[attr-defined]
        target_url=url,
        seed=seed,
        max_examples=max_examples,
        check_report_dir=False,
    )
    started = time.perf_counter()
    result = run(settings)
    elapsed = time.perf_counter() - started
    cases = sum(vendor.cases for vendor in result.vendors)
    return cases, elapsed, sum(1 for r in result.results if r.outcome == "failed")


def theirs(profile: object, url: str, max_examples: int, seed: int) -> tuple[int, float, str]:
    st = shutil.which("st") or str(Path(sys.executable).with_name("st"))
    header = profile.auth.header_value(TOKEN)  # type: ignore[attr-defined]
    command = [
        st,
        "run",
        str(profile.spec_path),
        "--url",
        url,
        "--max-examples",
        str(max_examples),  # type: ignore[attr-defined]
        "--seed",
        str(seed),
        "-H",
        f"{profile.auth.header}: {header}",
        "--no-color",
        # Like our suite, run every case of every phase instead of stopping an operation at its first
        # failure (the undocumented 401 of the auth probe), so both sides send comparable work.
        "--continue-on-failure",
        # No example database: by default `st run` keeps what it found in the (shared) storage directory and
        # replays it in its next runs. Ours keeps none either.
        "--generation-database=none",
    ]  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as cwd:  # keep its cache out of the repository
        started = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
        elapsed = time.perf_counter() - started
    match = re.search(r"(\d+) generated", proc.stdout)
    verdict = re.findall(r"^=+ (.+?) in [\d.]+s =+$", proc.stdout, re.M)
    return (int(match.group(1)) if match else 0), elapsed, (verdict[-1] if verdict else "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", default="seekrflow")
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    [profile] = select_vendors([args.vendor])
    app = create_app([profile], tokens=[TOKEN], prefix_by_vendor=False)
    rows = []
    with running_server(app) as url:
        for seed in range(1, args.repeat + 1):
            rows.append((ours(profile, url, args.max_examples, seed), theirs(profile, url, args.max_examples, seed)))
    our_cases = sum(r[0][0] for r in rows)
    our_time = sum(r[0][1] for r in rows)
    st_cases = sum(r[1][0] for r in rows)
    st_time = sum(r[1][1] for r in rows)
    print(f"vendor {args.vendor}, max-examples {args.max_examples}, {args.repeat} seed(s), reference mock on 127.0.0.1")
    print(
        f"  thread-conformance: {our_cases:5d} cases in {our_time:6.2f} s = {our_cases / our_time:7.1f} cases/s; "
        f"failed checks on the conforming mock: {sum(r[0][2] for r in rows)}"
    )
    print(
        f"  st run            : {st_cases:5d} cases in {st_time:6.2f} s = {st_cases / st_time:7.1f} cases/s "
        f"(process start included); verdicts: {', '.join(r[1][2] for r in rows)}"
    )
    print(f"  ratio (ours / st run), cases per second: {(our_cases / our_time) / (st_cases / st_time):.2f}")
    print(f"  ratio (ours / st run), cases per run:    {our_cases / max(st_cases, 1):.2f}")


if __name__ == "__main__":
    main()
