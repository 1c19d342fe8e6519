"""Verdicts that hold up: confirmation of every kept failure, and `conformance replay` of a recorded one,
against the reference mock, its mutants and a flaky server of our own (all on loopback)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance import api
from conformance.cli import main
from conformance.mock import create_app
from conformance.results import RunResult
from conformance.server import running_server
from conformance.vendors import select_vendors

TOKEN = "tok-verdicts-5e1a"
VENDOR = "seekrflow"
MUTANT = "status-outside-enum"  # a deterministic defect: every created thread has a status outside the enum


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEKRFLOW_API_KEY", TOKEN)


@contextmanager
def target(mutant: str | None = None, wrap: Any = None) -> Iterator[tuple[str, Any]]:
    app = create_app(select_vendors([VENDOR]), tokens={TOKEN}, mutant=mutant)
    served = wrap(app) if wrap is not None else app
    with running_server(served) as url:
        yield url, app


def _run(url: str, *, seed: int = 3, confirm: int | None = None, **options: Any) -> RunResult:
    settings = api.make_settings(
        vendors=[VENDOR], target_url=url, seed=seed, max_examples=15, check_report_dir=False, confirm=confirm, **options
    )
    return api.run(settings)


def _verdicts(result: RunResult) -> list[tuple[str, str, list[str | None]]]:
    return [(r.key, r.outcome, [f.id for f in r.failures]) for r in result.results]


def _failures(result: RunResult) -> list[Any]:
    return [f for r in result.results for f in r.failures]


def test_a_deterministic_defect_comes_back_confirmed_with_both_exchanges() -> None:
    with target(MUTANT) as (url, _):
        result = _run(url)
    failures = _failures(result)
    assert result.failed and failures
    for failure in failures:
        assert failure.confirmation == "confirmed", failure
        assert failure.label == "confirmed"
        assert failure.exchange is not None and failure.confirmation_exchange is not None
        assert failure.confirmation_exchange.status == failure.exchange.status


def test_confirmation_on_and_off_gives_the_same_verdicts_and_counts_its_requests() -> None:
    runs = {}
    requests = {}
    for confirm in (0, 1, 2):
        with target(MUTANT) as (url, app):
            runs[confirm] = _run(url, confirm=confirm)
            requests[confirm] = app.state.requests
    assert _verdicts(runs[0]) == _verdicts(runs[1]) == _verdicts(runs[2])
    assert all(f.confirmation is None for f in _failures(runs[0]))
    assert {f.confirmation for f in _failures(runs[2])} == {"confirmed"}
    distinct = len(_failures(runs[0]))
    # Sent through the run's transport: the mock saw exactly one (two) more request per distinct failure.
    assert requests[1] - requests[0] == distinct and requests[2] - requests[0] == 2 * distinct


def _sent(url: str, **options: Any) -> tuple[RunResult, int]:
    """A run and the number of requests its transport sent (some never reach the app: uvicorn refuses them)."""
    settings = api.make_settings(
        vendors=[VENDOR], target_url=url, seed=3, max_examples=15, check_report_dir=False, **options
    )
    with api.Runner(settings) as runner:
        reports = [runner.operation(VENDOR, label) for label in api.operation_labels(settings.profiles[0])]
        assert runner._transport is not None
        return runner.result(reports), runner._transport.stats.requests


def test_confirmation_respects_max_requests() -> None:
    with target(MUTANT) as (url, _):
        plain, spent = _sent(url, confirm=0)
    with target(MUTANT) as (url, _):
        result, sent = _sent(url, max_requests=spent)
    assert sent == spent and not result.budget_exhausted
    assert _verdicts(result) == _verdicts(plain)
    assert _failures(result) and all(f.confirmation is None for f in _failures(result))


class FlakyApp:
    """Wraps an ASGI app: every third HTTP request is answered with a bare 500."""

    def __init__(self, app: Any) -> None:
        self.app, self.count = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count += 1
            if self.count % 3 == 0:
                await send(
                    {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"flaky"})
                return
        await self.app(scope, receive, send)


def test_a_server_that_fails_one_request_in_three_is_not_reproduced_on_some_seed_and_still_fails() -> None:
    labels: dict[int, set[str | None]] = {}
    for seed in range(6):
        with target(wrap=FlakyApp) as (url, _):
            result = _run(url, seed=seed)
        errors = [f for r in result.results if r.check == "not_a_server_error" for f in r.failures]
        assert result.failed and errors, seed
        labels[seed] = {f.confirmation for f in errors}
        if "not_reproduced" in labels[seed]:
            failure = next(f for f in errors if f.confirmation == "not_reproduced")
            assert failure.label == "not reproduced (intermittent)"
            assert failure.confirmation_exchange is not None and failure.confirmation_exchange.status != 500
            outcome = next(r.outcome for r in result.results if r.check == "not_a_server_error")
            assert outcome == "failed"  # intermittent is still a failure
            return
    pytest.fail(f"no seed gave a not-reproduced failure: {labels}")


# ---------------------------------------------------------------- replay


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEEKRFLOW_API_KEY", TOKEN)
        with target(MUTANT) as (url, _):
            result = _run(url)
    path = tmp_path_factory.mktemp("replay") / "conformance.json"
    path.write_text(json.dumps(result.to_dict()))
    failure = next(f for f in _failures(result) if f.check == "response_schema_conformance")
    assert failure.id is not None
    return path, failure.id


def test_replay_exits_1_against_the_mutant_and_0_against_the_reference(
    recorded: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, failure_id = recorded
    with target(MUTANT) as (url, _):
        assert main(["replay", str(path), "--failure", failure_id, "--target-url", url]) == 1
    assert f"{failure_id} reproduces" in capsys.readouterr().out
    with target(None) as (url, _):
        assert main(["replay", str(path), "--failure", failure_id, "--target-url", url]) == 0
    out = capsys.readouterr().out
    assert f"{failure_id} no longer reproduces" in out and TOKEN not in out


def test_replay_usage_errors_are_one_line_and_exit_2(
    recorded: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, failure_id = recorded
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for args in (
        [str(path), "--failure", "F-00000000"],
        [str(path), "--failure", "nonsense"],
        [str(bad), "--failure", failure_id],
        [str(tmp_path / "missing.json"), "--failure", failure_id],
    ):
        assert main(["replay", *args, "--target-url", "http://127.0.0.1:9"]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("conformance: error: ") and err.count("\n") == 1, err


def test_replay_needs_the_token_of_an_authenticated_request(
    recorded: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path, failure_id = recorded
    monkeypatch.delenv("SEEKRFLOW_API_KEY")
    monkeypatch.delenv("CONFORMANCE_TOKEN", raising=False)
    assert main(["replay", str(path), "--failure", failure_id, "--target-url", "http://127.0.0.1:9"]) == 2
    assert "SEEKRFLOW_API_KEY" in capsys.readouterr().err


def test_every_report_shows_the_label_and_the_json_round_trips() -> None:
    from conformance.reports import render
    from conformance.reports.json import validation_errors
    from conformance.reports.terminal import terminal_summary

    with target(wrap=FlakyApp) as (url, _):
        result = _run(url, seed=0)
    data = json.loads(json.dumps(result.to_dict()))
    assert not validation_errors(data)
    again = RunResult.from_dict(data)
    assert [f.confirmation for f in _failures(again)] == [f.confirmation for f in _failures(result)]
    labels = {f.label for f in _failures(result)} - {None}
    assert labels
    texts = {fmt: str(render(result, fmt)) for fmt in ("html", "junit", "markdown")}
    texts["terminal"] = "\n".join(terminal_summary(result))
    for fmt, text in texts.items():
        for label in labels:
            assert label in text, (fmt, label)
    assert "Response to the re-send" in texts["html"] and "Response to the re-send" in texts["junit"]


def test_replay_sends_the_recorded_bytes_and_the_token_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from conformance.identity import failure_id
    from conformance.results import CheckResult, Exchange, Failure, VendorRun

    seen: list[tuple[bytes, dict[str, str]]] = []

    async def endpoint(request: Request) -> Response:
        seen.append((await request.body(), dict(request.headers)))
        return Response(b"Internal error", status_code=500, media_type="text/plain")

    body = b"\x00\xff{not json"
    with running_server(Starlette(routes=[Route("/v1/threads", endpoint, methods=["POST"])])) as url:
        recorded_at = "http://127.0.0.1:1"
        exchange = Exchange(
            method="POST",
            url=f"{recorded_at}/v1/threads",
            headers={"User-Agent": "x", "Content-Type": "application/json", "Authorization": "[REDACTED]"},
            body=body.decode("utf-8", "replace"),
            status=500,
            body_base64=base64.b64encode(body).decode(),
            authenticated=True,
        )
        fid = failure_id(VENDOR, "POST /v1/threads", "not_a_server_error", "ST101 500")
        failure = Failure(
            check="not_a_server_error",
            title="Server error",
            message="",
            exchange=exchange,
            curl="",
            generation_mode="negative",
            id=fid,
            finding="ST101 500",
        )
        run = RunResult(
            tool_version="0",
            schemathesis_version="0",
            seed=1,
            started_at="2026-01-01T00:00:00+00:00",
            vendors=[VendorRun(VENDOR, "SeekrFlow", "", "", recorded_at)],
            results=[CheckResult(VENDOR, "POST /v1/threads", "not_a_server_error", "failed", 1, [failure])],
        )
        path = tmp_path / "conformance.json"
        path.write_text(json.dumps(run.to_dict()))
        code = main(["replay", str(path), "--failure", fid, "--target-url", url])
    out = capsys.readouterr().out
    assert seen and seen[0][0] == body, seen
    assert seen[0][1]["authorization"] == f"Bearer {TOKEN}" and seen[0][1]["content-type"] == "application/json"
    assert code == 1 and f"{fid} reproduces" in out and TOKEN not in out


class ValuesNotAnObject:
    """Wraps an ASGI app: a success answer to a request whose JSON body chooses its `thread_id` comes back with
    `"values": 1` (LangGraph's Thread.values is an object). The app's own answer to a repeat of that id (its 409)
    is left as it is."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent: list[bytes] = []
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receiving() -> Any:
            message = await receive()
            sent.append(message.get("body", b""))
            return message

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    await self._answer(b"".join(sent), start, b"".join(chunks), send)

        await self.app(scope, receiving, sending)

    @staticmethod
    async def _answer(request: bytes, start: dict[str, Any], body: bytes, send: Any) -> None:
        try:
            chosen = "thread_id" in json.loads(request)
            answer = json.loads(body)
        except (ValueError, TypeError):
            chosen, answer = False, None
        if chosen and 200 <= start["status"] < 300 and isinstance(answer, dict):
            body = json.dumps({**answer, "values": 1}).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def test_a_failure_of_a_case_that_created_its_own_id_is_not_called_intermittent_when_the_repeat_conflicts() -> None:
    """Sent again, a create that chose its own id repeats that id: the vendor answers a conflict (409), not the
    first answer, and that is no sign of an intermittent failure. The failure keeps no label, and the report keeps
    the 409 as the re-send's answer."""
    profiles = select_vendors(["langgraph"])
    labels: dict[int, list[tuple[str | None, int | None]]] = {}
    for seed in range(6):
        with running_server(ValuesNotAnObject(create_app(profiles, tokens=set()))) as url:
            settings = api.make_settings(
                vendors=["langgraph"], target_url=url, seed=seed, max_examples=15, check_report_dir=False
            )
            result = api.run(settings)
        values = [
            f
            for r in result.results
            if r.check == "response_schema_conformance"
            for f in r.failures
            if "values" in (f.finding or "")
        ]
        assert values and result.failed, seed
        assert all(f.confirmation != "not_reproduced" for f in values), seed
        labels[seed] = [
            (f.confirmation, f.confirmation_exchange.status if f.confirmation_exchange else None) for f in values
        ]
        if (None, 409) in labels[seed]:
            return
    pytest.fail(f"no seed kept a case whose re-send was answered 409: {labels}")
