"""Speed in one run: the default run, start-up, cost per request beside `st run`, peak memory.

Every figure comes from a child process as a user starts it, timed by this script, with requests counted
at a loopback server (this process) and CPU seconds and peak RSS from `resource.getrusage` of the child:

1. the default run (`pytest`: every bundled vendor against the embedded mocks): wall time, peak RSS;
2. start-up: from starting `conformance run --vendor seekrflow` to the first request the server sees, in wall
   seconds and in the child's own CPU seconds by then (Linux /proc; on a busy machine the wall time is mostly
   waiting for a core);
3. ours (`conformance run --vendor V --target-url ...`) beside `st run --checks all` on the same spec, reference mock,
   max-examples and seed: requests counted at the server, CPU seconds, CPU per request, and the ratio. The total
   includes each tool's start-up; `--marginal` also runs both at half the budget in each round, right after the
   full budget, and prints the marginal cost per request (the slope between the two budgets: start-up cancels
   out), its ratio, and each round's own ratio (a slope is a difference of two noisy totals);
4. the 1- versus 4-worker speed-up against a target that answers after 50 ms (benchmarks/bench_workers.py).

Start-up and the comparison with `st run` are medians of `--repeat` rounds (3), ours and `st run` in turn in each
round, so that a busy moment of a shared machine weighs on neither tool alone. Before measuring, the
package's modules are compiled to bytecode, as `pip install` does: a checkout where `PYTHONDONTWRITEBYTECODE` is set
would otherwise compile them on every start (about 0.15 s that an installed package does not pay).

    python benchmarks/bench_speed.py [--vendor seekrflow] [--max-examples 100] [--seed 1] [--marginal]
                                      [--repeat 3] [--workers-examples 20]
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import conformance
from conformance.cli import _user_cache
from conformance.mock import create_app
from conformance.server import running_server
from conformance.vendors import select_vendors

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
THREE = ("seekrflow", "watsonx", "andibase")  # the default run of issue 13's target, before langgraph was bundled
BIN = Path(sys.executable).parent
# Every child, ours and `st run`, shares one warm Hypothesis cache (its Unicode tables, ~1 s of CPU to build): the
# one `conformance run` uses by default. Without it `st run`, started in a fresh directory, would build them on
# every run and look slower than it is.
ENV = {**os.environ, "CONFORMANCE_TOKEN": TOKEN}
ENV.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(_user_cache() / "hypothesis"))


class Counter:
    """ASGI wrapper: counts requests and remembers when the first one arrived (time.monotonic)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0
        self.first: float | None = None
        self.seen = threading.Event()
        self.lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            with self.lock:
                self.requests += 1
                if self.first is None:
                    self.first = time.monotonic()
                    self.seen.set()
        await self.app(scope, receive, send)


def child(command: Sequence[str], cwd: Path) -> tuple[float, float, int, str]:
    """Run one child process to the end: (wall seconds, CPU seconds, its peak RSS in MB, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(list(command), cwd=cwd, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss // 1024, proc.stdout  # ru_maxrss: KB on Linux, max over waited children


def default_run(work: Path, vendors: Sequence[str] = (), extra: Sequence[str] = ()) -> tuple[float, float, int, str]:
    # `--report-dir=DIR` in one argument: pytest takes an existing directory given as a separate argument for a
    # path when it looks for its ini file (the plugin then stops with a usage error).
    command = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "--seed", "1", f"--report-dir={work / 'd'}"]
    command += [f"--vendor={vendor}" for vendor in vendors] + list(extra)
    wall, cpu, rss, out = child(command, ROOT)
    return wall, cpu, rss, (out.strip().splitlines() or ["?"])[-1]


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far (Linux), NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_up(work: Path, vendor: str) -> tuple[float, float]:
    """(wall seconds, the child's CPU seconds) from the start of `conformance run` to the first request."""
    [profile] = select_vendors([vendor])
    counter = Counter(create_app([profile], tokens=[TOKEN], prefix_by_vendor=False))
    with running_server(counter) as url:
        command = [str(BIN / "conformance"), "run", "--vendor", vendor, "--target-url", url, "--seed", "1"]
        command += ["--report-dir", str(work / "s"), "--max-examples", "5"]
        started = time.monotonic()
        proc = subprocess.Popen(command, cwd=work, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu = float("nan")
        try:
            if counter.seen.wait(60):
                cpu = _cpu_seconds(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    return (counter.first or float("nan")) - started, cpu


def per_request(work: Path, vendor: str, max_examples: int, seed: int) -> dict[str, tuple[int, float, float]]:
    """{tool: (requests at the server, wall seconds, CPU seconds)} for ours and `st run`."""
    [profile] = select_vendors([vendor])
    st = shutil.which("st") or str(BIN / "st")
    out: dict[str, tuple[int, float, float]] = {}
    for tool in ("ours", "st run"):
        counter = Counter(create_app([profile], tokens=[TOKEN], prefix_by_vendor=False))
        with running_server(counter) as url:
            if tool == "ours":
                command = [str(BIN / "conformance"), "run", "-q", "-p", "no:cacheprovider", "--vendor", vendor]
                command += ["--target-url", url, "--max-examples", str(max_examples), "--seed", str(seed)]
                command += [f"--report-dir={work / 'o'}"]
                cwd = ROOT
            else:
                header = f"{profile.auth.header}: {profile.auth.header_value(TOKEN)}"
                command = [st, "run", str(profile.spec_path), "--url", url, "--checks", "all", "--no-color"]
                command += ["--max-examples", str(max_examples), "--seed", str(seed), "-H", header]
                # No example database: by default `st run` keeps the examples it found in the storage directory
                # shared here and replays them in its next runs, so its cost grew from one benchmark run to the next
                # (16 to 26 ms per request on the same machine). Ours keeps none either.
                command += ["--continue-on-failure", "--generation-database=none"]
                cwd = work  # keeps its cache out of the repository
            wall, cpu, _rss, _ = child(command, cwd)
            out[tool] = (counter.requests, wall, cpu)
    return out


def median_rows(rounds: list[dict[str, tuple[int, float, float]]]) -> dict[str, tuple[int, float, float]]:
    """{tool: (median requests, median wall, median CPU)} over rounds of `per_request`."""
    return {
        tool: (
            int(statistics.median(r[tool][0] for r in rounds)),
            statistics.median(r[tool][1] for r in rounds),
            statistics.median(r[tool][2] for r in rounds),
        )
        for tool in rounds[0]
    }


def marginal(full: tuple[int, float, float], half: tuple[int, float, float]) -> float:
    """CPU seconds per request between two budgets: (requests, wall, CPU) at the full and at the half budget."""
    (requests, _, cpu), (fewer, _, less) = full, half
    return (cpu - less) / (requests - fewer) if requests > fewer else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", default="seekrflow")
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--marginal", action="store_true", help="also run at half the budget: marginal cost per request"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds of start-up and of ours beside st run (median)")
    parser.add_argument(
        "--workers-examples",
        type=int,
        default=20,
        help="max-examples of the 1- vs 4-worker comparison against a 50 ms target (0: leave it out)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    # What `pip install` does for an installed package (and Python does on a first import where it may write).
    compileall.compile_dir(Path(conformance.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wall, cpu, rss, verdict = default_run(work)
        print(f"default run (pytest, all bundled vendors, embedded mocks): {wall:.1f} s wall, {cpu:.1f} s CPU")
        print(f"  verdict: {verdict}")
        print(f"  peak RSS: {rss} MB")
        wall, cpu, rss, verdict = default_run(work, THREE)
        print(f"default run of the three documented vendors ({', '.join(THREE)}): {wall:.1f} s wall, {cpu:.1f} s CPU")
        print(f"  verdict: {verdict}")
        # The checkout's pyproject.toml passes --assert=plain (so does `conformance run`). pytest's default elsewhere
        # rewrites the asserts of every package that registers a plugin (Schemathesis, Hypothesis, ours) and caches
        # that beside Python's bytecode, which PYTHONDONTWRITEBYTECODE turns off: this line shows what that costs.
        wall, cpu, _, _ = default_run(work, THREE, extra=["--assert=rewrite"])
        print(f"  the same with --assert=rewrite (pytest's default elsewhere): {wall:.1f} s wall, {cpu:.1f} s CPU")
        starts = [start_up(work, args.vendor) for _ in range(args.repeat)]
        first, first_cpu = (statistics.median(s[i] for s in starts) for i in (0, 1))
        print(f"start-up (conformance run --vendor {args.vendor}) to the first request: {first:.2f} s wall,", end=" ")
        print(f"{first_cpu:.2f} s CPU (median of {args.repeat})")
        # With --marginal each round also runs both tools at half the budget, right after the full one, so that
        # a slower or faster spell of a shared machine weighs on both budgets of a round alike.
        fewer_examples = max(1, args.max_examples // 2)
        full_rounds, half_rounds = [], []
        for _ in range(args.repeat):
            full_rounds.append(per_request(work, args.vendor, args.max_examples, args.seed))
            if args.marginal:
                half_rounds.append(per_request(work, args.vendor, fewer_examples, args.seed))
        rows = median_rows(full_rounds)
        print(f"{args.vendor}, max-examples {args.max_examples}, seed {args.seed}, loopback reference mock", end="")
        print(f" (medians of {args.repeat} rounds):")
        for tool, (requests, wall, cpu) in rows.items():
            rate = requests / wall if wall else 0.0
            per = 1000 * cpu / requests if requests else float("nan")
            print(f"  {tool:7s}: {requests:5d} requests in {wall:5.1f} s = {rate:6.1f} req/s; {per:5.1f} ms CPU/req")
        (ours_n, _, ours_cpu), (st_n, _, st_cpu) = rows["ours"], rows["st run"]
        if ours_n and st_n:
            ratio = (ours_cpu / ours_n) / (st_cpu / st_n)
            print(f"  ratio of CPU per request, start-up included (ours / st run): {ratio:.2f}")
        if args.marginal:
            half = median_rows(half_rounds)
            slopes = {tool: marginal(rows[tool], half[tool]) for tool in rows}
            for tool, (requests, _, _) in rows.items():
                fewer = half[tool][0]
                print(f"  {tool:7s}: marginal {1000 * slopes[tool]:5.1f} ms CPU/req ({fewer} -> {requests} requests)")
            # A slope is the difference of two totals, each with its own noise: the rounds' own ratios show how much.
            each = sorted(
                marginal(full["ours"], less["ours"]) / marginal(full["st run"], less["st run"])
                for full, less in zip(full_rounds, half_rounds, strict=True)
            )
            ratio = slopes["ours"] / slopes["st run"]
            print(f"  ratio of marginal CPU per request (ours / st run): {ratio:.2f}", end="")
            print(f" (each round's own: {', '.join(f'{r:.2f}' for r in each)})")
    if args.workers_examples:
        # The 1- versus 4-worker speed-up, as benchmarks/bench_workers.py measures it (a child: it serves its own
        # delayed target from a process of its own).
        command = [sys.executable, str(ROOT / "benchmarks" / "bench_workers.py")]
        command += ["--max-examples", str(args.workers_examples)]
        proc = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if not line.startswith("{")]
        print("\n".join(lines) if proc.returncode == 0 else f"bench_workers.py failed: {proc.stderr.strip()[-500:]}")


if __name__ == "__main__":
    main()
