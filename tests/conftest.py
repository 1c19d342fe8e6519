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
def _generation_depends_on_the_seed_only(request: pytest.FixtureRequest) -> Iterator[None]:
    """Hypothesis in the self-tests draws the same values whichever modules xdist happened to import first
    (see `without_local_constants`): the strategies' own tests (`find`, shrinking to a minimal example) run
    outside the engine, which empties the pool itself. A test marked `local_constants` keeps the pool, to
    prove that the engine does."""
    if request.node.get_closest_marker("local_constants"):
        yield
        return
    with without_local_constants():
        yield


def pytest_configure(config: pytest.Config) -> None:
    # Under xdist's default `--dist load`, hand out a few items at a time instead of a quarter of the suite per
    # worker up front: with the costly items first (below), a worker that is still busy then never holds a
    # queue of them while the other one idles. A `--maxschedchunk` given on the command line wins.
    if config.pluginmanager.has_plugin("xdist") and getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The costly self-tests first (`slow`, then those of modules that run the suite), the quick ones last, each
    group in collection order: xdist workers then finish together instead of one running a long tail alone."""

    def cost(item: pytest.Item) -> int:
        if item.get_closest_marker("slow") is not None:
            return 0
        module = getattr(item, "module", None)
        return 1 if hasattr(module, "run_suite") or hasattr(module, "mock_target") else 2

    items.sort(key=cost)
