"""Self-test configuration."""

pytest_plugins = ["pytester"]
