"""Self-test configuration."""

from collections.abc import Iterator

import pytest

from conformance.compat import without_local_constants
from tests import suite_runner

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session", autouse=True)
def _one_mock_server_per_session() -> Iterator[None]:
    """Every `mock_target` of the session (of one xdist worker) is mounted on one loopback server, started
    when first needed: a uvicorn start and stop per target cost more than many of the tests that use one."""
    suite_runner.HOST = host = suite_runner.MockHost()
    try:
        yield
    finally:
        suite_runner.HOST = None
        host.close()


@pytest.fixture(autouse=True)
def _generation_depends_on_the_seed_only() -> Iterator[None]:
    """Hypothesis in the self-tests draws the same values whichever modules xdist happened to import first
    (see `without_local_constants`), so a shrinking test cannot pass on one worker and fail on another."""
    with without_local_constants():
        yield
