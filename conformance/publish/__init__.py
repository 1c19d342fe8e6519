"""`conformance publish RUN.json... --out DIR`: a static site of conformance across vendors, versions and time.

The site's own `index.json` is its record: every published run is summarised there (outcomes, failure
ids, accepted deviations), so the run files can be deleted once published. Each run's full HTML report
is rendered once, into `runs/<run id>/report.html`, when the run is added. See `conformance.publish.site`
for the data and `conformance.publish.render` for the pages and feeds.
"""

from __future__ import annotations

from conformance.publish.site import publish, run_publish

__all__ = ["publish", "run_publish"]
