"""`badge-<vendor>.json`: a shields.io endpoint file per vendor ("NN% conformant").

The percentage is passed / (passed + failed + stale + accepted) checks, rounded down: an accepted
(baselined or known) deviation is still a deviation from the vendor's spec, so it does not count as
conformant; not_applicable and not_reached checks are left out. See `_common.conformance_percent`.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.redact import redact
from conformance.reports._common import conformance_percent, redacted_run, vendor_runs
from conformance.results import RunResult

# (lowest percentage, shields.io colour), from green down to red.
COLOURS: tuple[tuple[int, str], ...] = (
    (100, "brightgreen"),
    (90, "green"),
    (75, "yellowgreen"),
    (50, "yellow"),
    (25, "orange"),
    (0, "red"),
)
NO_DATA_COLOUR = "lightgrey"


def filename(vendor: str) -> str:
    """The badge's file name; the key is reduced to a plain file name, as it may come from a JSON file."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", vendor).lstrip(".") or "_"
    return f"badge-{safe}.json"


def colour(percent: int | None) -> str:
    """The badge colour for a percentage: red (0) to bright green (100)."""
    if percent is None:
        return NO_DATA_COLOUR
    return next(c for threshold, c in COLOURS if percent >= threshold)


def render_badge(run: RunResult, vendor: str) -> dict[str, Any]:
    """The shields.io endpoint document for one vendor."""
    run = redacted_run(run)
    display = next((v.display_name for v in vendor_runs(run) if v.vendor == vendor), vendor)
    percent = conformance_percent(run, vendor)
    message = "no checks judged" if percent is None else f"{percent}% conformant"
    return {"schemaVersion": 1, "label": redact(display), "message": message, "color": colour(percent)}


def render_badges(run: RunResult) -> dict[str, dict[str, Any]]:
    """Every vendor's badge, by vendor key."""
    return {v.vendor: render_badge(run, v.vendor) for v in vendor_runs(run)}
