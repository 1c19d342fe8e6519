"""Self-test configuration."""

from collections.abc import Iterator

import pytest

from conformance.compat import without_local_constants

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _generation_depends_on_the_seed_only() -> Iterator[None]:
    """Hypothesis in the self-tests draws the same values whichever modules xdist happened to import first
    (see `without_local_constants`), so a shrinking test cannot pass on one worker and fail on another."""
    with without_local_constants():
        yield
