"""`conformance mock`: serve the reference mock for one vendor (at the root) or several (under /<vendor>)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping

from conformance.mock import create_app
from conformance.mutants import get_mutant
from conformance.server import serve_forever
from conformance.vendors import FALLBACK_TOKEN_ENV, Profile, select_vendors

# The token the mock accepts when the environment names none; documented, so printing it is safe.
DEFAULT_TOKEN = "conformance-mock-token"


def mock_tokens(profiles: list[Profile], environ: Mapping[str, str] | None = None) -> list[str]:
    """The tokens the mock accepts: each vendor's token variable, else CONFORMANCE_TOKEN, else the default."""
    env = dict(os.environ if environ is None else environ)
    return sorted({p.token(env) or DEFAULT_TOKEN for p in profiles})


def describe_tokens(tokens: list[str], profiles: list[Profile], environ: Mapping[str, str] | None = None) -> str:
    """Which tokens are accepted, naming where each comes from; only the default token is ever printed."""
    env = os.environ if environ is None else environ
    parts = []
    for token in tokens:
        if token == DEFAULT_TOKEN:
            parts.append(f"{DEFAULT_TOKEN} (the default)")
            continue
        names = [p.auth.token_env for p in profiles if env.get(p.auth.token_env) == token]
        if env.get(FALLBACK_TOKEN_ENV) == token:
            names.append(FALLBACK_TOKEN_ENV)
        parts.append(f"the value of ${' / $'.join(dict.fromkeys(names))}" if names else "a token you gave")
    return ", ".join(parts) or "none"


def run_mock(
    vendors: list[str] | None,
    host: str,
    port: int,
    mutant: str | None,
    tokens: list[str],
    vendors_dir: str | None = None,
) -> int:
    """Serve the mock until Ctrl-C; print one line with the URL(s) and the accepted token(s). Returns 0."""
    profiles = select_vendors(vendors, vendors_dir)
    if mutant:
        get_mutant(mutant)  # an unknown name is a UsageError before anything is bound
    accepted = list(tokens) or mock_tokens(profiles)
    app = create_app(profiles, tokens=accepted, mutant=mutant)

    def ready(url: str) -> None:
        if app.state.prefixed:
            where = ", ".join(f"{p.key} at {url}/{p.key}" for p in profiles)
        else:
            where = f"{profiles[0].key} at {url}"
        with_mutant = f" with mutant {mutant}" if mutant else ""
        tokens_text = describe_tokens(accepted, profiles)
        print(f"conformance mock{with_mutant}: {where}; token: {tokens_text}; Ctrl-C to stop", flush=True)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the mock is meant to end
        serve_forever(app, host, port, on_ready=ready)
    sys.stdout.flush()
    return 0
