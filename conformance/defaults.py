"""The run's default values, in a module that imports nothing: the pytest plugin, loaded into every pytest
run of the environment, names them in its option help without importing the engine."""

from __future__ import annotations

DEFAULT_TIMEOUT = 10.0  # seconds per request
DEFAULT_MAX_BODY = 10 * 1024 * 1024  # bytes of a response body
DEFAULT_MAX_EXAMPLES = 100  # fuzzing examples per operation
DEFAULT_REPORT_DIR = "reports"
EMBEDDED = "embedded reference mock"
DEFAULT_CONFIRM = 1  # re-sends of each distinct failure's kept case
# On every reply of the reference mock (conformance.mock): the target is this mock (the spec's reference, or a
# mutant), not the vendor's own server, so the vendor's known deviations do not apply to it.
MOCK_HEADER = "x-conformance-mock"
