"""The catalogue of checks: the single truth of each check's name, kind and one-line summary.

The engine runs the checks in this order, reports list them in this order, the mutants name their
expected checks from it, and the self-tests compare it with what Schemathesis and `conformance.checks`
actually register.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Where a check comes from."""

    BUILTIN = "schemathesis"  # one of Schemathesis's own checks, enabled through its config
    SEMANTIC = "semantic"  # ours (conformance.checks): what a schema cannot express
    TRANSPORT = "transport"  # a failure of the exchange itself, recorded by the engine


@dataclass(frozen=True)
class Check:
    """One check: its name (also its key in reports and baselines), kind and what it verifies."""

    name: str
    kind: Kind
    summary: str
    # Stricter than the spec: judges what the vendor's profile knows and the spec does not say. A user who
    # wants spec-only verdicts turns such checks off (--skip-check / ini conformance_skip_checks).
    stricter: bool = False


CATALOGUE: tuple[Check, ...] = (
    Check("not_a_server_error", Kind.BUILTIN, "no response is a 5xx"),
    Check("status_code_conformance", Kind.BUILTIN, "every status code is one the spec documents"),
    Check("content_type_conformance", Kind.BUILTIN, "every content type is one the spec documents"),
    Check("response_headers_conformance", Kind.BUILTIN, "documented response headers are present and valid"),
    Check("response_schema_conformance", Kind.BUILTIN, "every response body validates against its schema"),
    Check("negative_data_rejection", Kind.BUILTIN, "an invalid request is rejected with a 4xx"),
    Check("positive_data_acceptance", Kind.BUILTIN, "a valid, authenticated request succeeds with a 2xx"),
    Check("missing_required_header", Kind.BUILTIN, "a request without a required header is rejected"),
    Check("ignored_auth", Kind.BUILTIN, "a request without valid credentials is refused"),
    Check("round_trip", Kind.SEMANTIC, "echoed fields come back exactly as sent"),
    Check("unique_ids", Kind.SEMANTIC, "id fields of successful creates never repeat within a run"),
    Check("timestamps", Kind.SEMANTIC, "timestamps are RFC 3339 and within the allowed clock skew"),
    Check("defaults_applied", Kind.SEMANTIC, "an omitted field with a spec default comes back as that default"),
    Check("unknown_resource", Kind.SEMANTIC, "a path resource that cannot exist gets the documented 404"),
    Check("conflict_policy", Kind.SEMANTIC, "a repeated client-chosen id gets what the vendor's conflict policy says"),
    Check(
        "error_shape",
        Kind.SEMANTIC,
        "an error answer has the error shape the profile declares (stricter than the spec)",
        stricter=True,
    ),
    Check("request_timeout", Kind.TRANSPORT, "every request is answered within --request-timeout"),
    Check("broken_response", Kind.TRANSPORT, "every response is well-formed HTTP within --max-body-bytes"),
)
BY_NAME: dict[str, Check] = {check.name: check for check in CATALOGUE}


def names(kind: Kind | None = None) -> tuple[str, ...]:
    """The check names, in catalogue order; of one kind when `kind` is given."""
    return tuple(check.name for check in CATALOGUE if kind is None or check.kind is kind)


ALL_CHECKS = names()
BUILTIN_CHECKS = names(Kind.BUILTIN)
SEMANTIC_CHECKS = names(Kind.SEMANTIC)
TRANSPORT_CHECKS = names(Kind.TRANSPORT)


def order(name: str) -> int:
    """A check's place in the catalogue (unknown names last), for sorting results."""
    return ALL_CHECKS.index(name) if name in BY_NAME else len(ALL_CHECKS)
