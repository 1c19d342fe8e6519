"""Speed-up of `--workers 4` over `--workers 1` against a target that answers every request after 50 ms.

The target is the reference mock (all vendors) behind a 50 ms delay, served by a separate process so that
its CPU does not share our interpreter's GIL. Both runs go through the engine's public entry point
(`conformance.api.run`) in this process, with the same seed, side by side; each is repeated and the
wall-clock times are summed before the ratio is taken. The verdicts (outcome, cases judged and failure ids
of every check) and the requests the server counted are compared between the two.

    python benchmarks/bench_workers.py [--max-examples 30] [--workers 4] [--delay 0.05] [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-workers-token"


class Delayed:
    """ASGI wrapper: every HTTP request is answered after `delay` seconds; GET /__count__ says how many came."""

    def __init__(self, app: Any, delay: float) -> None:
        self.app, self.delay, self.requests = app, delay, 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/__count__":
            body = str(self.requests).encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "http":
            self.requests += 1
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


def serve(port_file: str, delay: float) -> None:
    """The target process: the reference mock of every vendor behind the delay, on a free loopback port."""
    from conformance.mock import create_app
    from conformance.server import bind, serve_forever
    from conformance.vendors import known_vendors

    del bind  # serve_forever binds; the port is reported through on_ready
    app = Delayed(create_app(list(known_vendors().values()), tokens=[TOKEN], prefix_by_vendor=True), delay)
    serve_forever(app, "127.0.0.1", 0, on_ready=lambda url: Path(port_file).write_text(url))


@contextlib.contextmanager
def delayed_target(delay: float) -> Iterator[str]:
    """A fresh target process (`serve`); yields its base URL."""
    with tempfile.TemporaryDirectory() as scratch:
        port_file = Path(scratch) / "url"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port_file), "--delay", str(delay)], cwd=ROOT
        )
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("the delayed target did not start")
                time.sleep(0.05)
            yield port_file.read_text().strip()
        finally:
            server.terminate()
            server.wait(10)


def count(url: str) -> int:
    with urllib.request.urlopen(f"{url}/__count__", timeout=10) as response:
        return int(response.read())


def verdicts(result: Any) -> list[tuple[Any, ...]]:
    return [
        (r.vendor, r.operation, r.check, r.outcome, r.cases, tuple(sorted(f.id or "" for f in r.failures)))
        for r in result.results
    ]


def run(url: str, workers: int, max_examples: int, seed: int) -> tuple[float, list[tuple[Any, ...]], int]:
    from conformance.api import make_settings
    from conformance.api import run as run_suite

    with tempfile.TemporaryDirectory() as reports:
        settings = make_settings(
            target_url=url, seed=seed, max_examples=max_examples, report_dir=reports, workers=workers, shrink=False
        )
        before = count(url)
        started = time.perf_counter()
        result = run_suite(settings)
        elapsed = time.perf_counter() - started
    return elapsed, verdicts(result), count(url) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)  # internal: run the target process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.delay)
        return
    os.environ["CONFORMANCE_TOKEN"] = TOKEN
    serial = parallel = 0.0
    same = True
    sent: dict[int, int] = {1: 0, args.workers: 0}
    for seed in range(1, args.repeat + 1):
        # A fresh target for each run: the first run's resources (client-chosen ids) would make the second's
        # repeats of them conflicts.
        with delayed_target(args.delay) as url:
            one, one_verdicts, sent_one = run(url, 1, args.max_examples, seed)
        with delayed_target(args.delay) as url:
            many, many_verdicts, sent_many = run(url, args.workers, args.max_examples, seed)
        serial, parallel = serial + one, parallel + many
        sent[1] += sent_one
        sent[args.workers] += sent_many
        for mine, theirs in zip(one_verdicts, many_verdicts, strict=True):
            if mine != theirs:
                same = False
                print(f"  differs (seed {seed}): --workers 1 {mine}, --workers {args.workers} {theirs}")
    print(
        f"live run against the reference mocks behind a {args.delay * 1000:g} ms delay (a separate process), "
        f"all vendors, max-examples {args.max_examples}, {args.repeat} seed(s)"
    )
    print(f"  --workers 1: {serial:6.2f} s, {sent[1]} requests at the server")
    print(f"  --workers {args.workers}: {parallel:6.2f} s, {sent[args.workers]} requests at the server")
    print(f"  speed-up of --workers {args.workers} over --workers 1: {serial / parallel:.2f}x")
    print(f"  same verdicts (outcome, cases, failure ids of every check): {'yes' if same else 'NO'}")
    print(
        json.dumps(
            {"serial_s": round(serial, 2), "parallel_s": round(parallel, 2), "ratio": round(serial / parallel, 2)}
        )
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
