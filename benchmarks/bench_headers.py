"""Per-response cost of response headers: `header_dict` (linear) against `dict(headers)` (quadratic in httpx).

Run: `.venv/bin/python benchmarks/bench_headers.py`. It builds httpx.Headers with 1,000 and 10,000
entries and times turning them into a dict both ways. A linear method takes about 10x longer for 10x
the headers; `dict(headers)` about 100x.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from conformance.transport import header_dict


def _seconds(convert: Callable[[httpx.Headers], object], headers: httpx.Headers, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        convert(headers)
    return (time.perf_counter() - started) / repeat


def main() -> None:
    sizes = (1_000, 10_000)
    for name, convert, repeat in (("header_dict", header_dict, 20), ("dict(headers)", dict, 1)):
        times = [_seconds(convert, httpx.Headers([(f"x-h-{i}", "v") for i in range(n)]), repeat) for n in sizes]
        ratio = times[1] / times[0]
        print(f"{name:14} 1,000: {times[0] * 1000:9.2f} ms  10,000: {times[1] * 1000:9.2f} ms  ratio {ratio:6.1f}")


if __name__ == "__main__":
    main()
