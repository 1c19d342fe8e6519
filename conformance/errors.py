"""Errors that reach the user as one clear line, never as a traceback."""

from __future__ import annotations


class UsageError(Exception):
    """A mistake in how the suite was invoked or configured (bad option, profile, target, token)."""
