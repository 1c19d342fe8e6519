"""Loads the conformance plugin for every pytest run from the repository root."""

pytest_plugins = ["conformance.plugin"]
