"""thread-conformance: conformance tests for vendor "create thread" HTTP APIs."""

__version__ = "0.1.0"
