"""The one transport seam: every request of a run goes through one httpx client.

Cases are serialised by Schemathesis (`case.as_transport_kwargs()`), sent here with httpx, and the
`httpx.Response` is handed to the checks. Schemathesis's own probes (e.g. `ignored_auth` re-sending
without credentials) normally go through `requests`; `route_schema_through` points the schema's
transport here too, so budgets, rate limits, timeouts and redaction hold for every request, and
respx can stand in for a server in self-tests.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.cookiejar
import json
import os
import socket
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore
import httpx
from schemathesis.core.transport import Response as StResponse
from schemathesis.transport.requests import RequestsTransport

from conformance import compat
from conformance.defaults import DEFAULT_MAX_BODY, DEFAULT_TIMEOUT
from conformance.errors import UsageError

CAP_HEADER = "x-conformance-body-capped"
BUDGET_NOTE = "the request budget"
CREATING_METHODS = frozenset({"POST", "PUT"})
# A Retry-After longer than this is not waited out: the 429 is kept (and never counted as a verdict).
MAX_RETRY_AFTER = 120.0


class BudgetExhausted(Exception):
    """The run's --max-requests budget is spent; nothing more may be sent."""


class TargetUnreachable(UsageError):
    """The target cannot be reached at all (refused, unresolvable, TLS failure)."""


class RequestTimedOut(Exception):
    """One request did not complete within --request-timeout."""

    def __init__(self, method: str, url: str, timeout: float) -> None:
        super().__init__(f"{method} {url} did not complete within {timeout:g} s")
        self.method, self.url, self.timeout = method, url, timeout


class UnsendableRequest(Exception):
    """httpx refuses to send the generated request (e.g. an invalid header): no verdict on the target."""


class BrokenResponse(Exception):
    """The target sent something that is not a complete HTTP response (reset mid-body, bad length)."""


class SendCancelled(Exception):
    """The run was interrupted while this request waited for its turn or was on the wire (`--workers`):
    it gets no verdict."""


@dataclass
class RateLimit:
    """Requests per period, spaced evenly (e.g. '10/s', '100/m')."""

    count: int
    period: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        units = {"s": 1.0, "m": 60.0, "h": 3600.0}
        try:
            count_text, unit = text.strip().split("/")
            count = int(count_text)
            period = units[unit.strip().lower()]
        except (ValueError, KeyError):
            raise UsageError(f"invalid --rate-limit {text!r}: use N/s, N/m or N/h, e.g. 10/s") from None
        if count <= 0:
            raise UsageError(f"invalid --rate-limit {text!r}: the count must be positive")
        return cls(count, period)

    @property
    def interval(self) -> float:
        return self.period / self.count


@dataclass
class TransportStats:
    """What the transport did during the run."""

    requests: int = 0
    timeouts: int = 0
    capped_bodies: int = 0
    retried_429: int = 0
    budget_exhausted: bool = False
    created: int = 0  # 2xx answers to POST/PUT: resources the run left on the target


# The most requests per period whose end times the xdist ledger keeps (one entry each, read and written under
# its lock for every request): above it, the processes of a run keep only the evenly spaced slots, exact at the
# sender but not proof against network jitter at the server (see HttpxTransport._take_turn).
LEDGER_MAX_TRACKED = 1000
# How often a process polls the ledger while the request `count` places earlier is still on the wire.
LEDGER_POLL = 0.01


@dataclass(frozen=True)
class LedgerTurn:
    """A request's turn from the ledger: its number among the run's rate-limited requests and its send time."""

    number: int
    slot: float


@dataclass(frozen=True)
class Ledger:
    """The budget and rate of one run shared by its processes (xdist workers): a small file, read and written
    under an exclusive lock, holding the requests sent so far, the next free slot of the rate limit, and when
    each of the last `count` rate-limited requests ended (or since when it is on the wire).

    Written here rather than taken from pyrate-limiter (whose SQLite bucket is multiprocess): the budget is a
    total of requests, not a rate, and the pacing is the transport's own evenly spaced slots bounded by the
    ends of earlier exchanges, which this keeps exact across processes (the times are on time.monotonic, one
    clock for every process of the machine)."""

    path: str

    @classmethod
    def create(cls, path: str) -> Ledger:
        with open(path, "w", encoding="ascii") as handle:
            handle.write("0 0 0\n\n")
        return cls(path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[tuple[list[str], list[str], Callable[[list[str], list[str]], None]]]:
        """The ledger's fields and its ring of end times, and a function that writes them back; under the lock."""
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            lines = os.pread(fd, 64 + 32 * LEDGER_MAX_TRACKED, 0).decode("ascii").split("\n")
            head = lines[0].split()
            head += ["0"] * (3 - len(head))  # a ledger written before the ring had two fields

            def write(new_head: list[str], ring: list[str]) -> None:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{' '.join(new_head)}\n{' '.join(ring)}\n".encode("ascii"), 0)

            yield head, (lines[1].split() if len(lines) > 1 else []), write
        finally:
            os.close(fd)  # releases the lock

    def take(self, max_requests: int | None, interval: float | None, now: float, *, count: bool = True) -> float:
        """Count one request against the shared budget (unless `count` is false: its budget was reserved
        before) and return its evenly spaced slot (a time on `now`'s clock; `now` without an interval);
        BudgetExhausted when the budget is spent. Never waits: `take_turn` adds the bound of earlier ends."""
        turn = self.take_turn(max_requests, interval, now, count=count)
        assert turn is not None  # only a RateLimit makes a request wait for an earlier one
        return turn.slot

    def take_turn(
        self,
        max_requests: int | None,
        rate: RateLimit | float | None,
        now: float,
        *,
        count: bool = True,
        stale_after: float = DEFAULT_TIMEOUT,
    ) -> LedgerTurn | None:
        """`take`, keeping the request's number for `end`; None (nothing counted or changed) while the request
        `rate.count` places earlier is still on the wire: poll again. An entry on the wire for longer than
        `stale_after` (the request timeout) plus a margin counts as ended: its process died mid-request."""
        with self._locked() as (head, ring, write):
            sent, next_slot, numbered = int(head[0]), float(head[1]), int(head[2])
            if count and max_requests is not None and sent >= max_requests:
                raise BudgetExhausted(f"{BUDGET_NOTE} of {max_requests} was spent before this check ran")
            interval = rate.interval if isinstance(rate, RateLimit) else rate
            tracked = isinstance(rate, RateLimit) and rate.count <= LEDGER_MAX_TRACKED
            slot = max(now, next_slot) if interval is not None else now
            if tracked:
                assert isinstance(rate, RateLimit)
                if len(ring) != rate.count:
                    ring = ["-"] * rate.count
                entry = ring[numbered % rate.count]
                if entry.startswith("p") and now <= float(entry[1:]) + stale_after + 5.0:
                    return None  # the request `count` places earlier has not ended yet
                if entry.startswith("e"):
                    slot = max(slot, float(entry[1:]) + rate.period)
                elif entry.startswith("p"):
                    slot = max(slot, float(entry[1:]) + stale_after + 5.0 + rate.period)
                ring[numbered % rate.count] = f"p{slot!r}"
            following = slot + interval if interval is not None else next_slot
            # Only the requests whose ends are tracked are numbered (a budget-only take, as `reserve`'s, is not),
            # so that request n + count is always the one that waits for request n.
            write([str(sent + 1 if count else sent), repr(following), str(numbered + 1 if tracked else numbered)], ring)
            return LedgerTurn(numbered, slot)

    def end(self, turn: LedgerTurn, rate: RateLimit, ended: float) -> None:
        """Request `turn`'s exchange is over (answered, failed or never sent) at `ended`: the request
        `rate.count` places later may go a period after it."""
        if rate.count > LEDGER_MAX_TRACKED:
            return
        with self._locked() as (head, ring, write):
            index = turn.number % rate.count
            # Unless a later request has taken its place (its process judged this one dead: see take_turn).
            if len(ring) == rate.count and ring[index] == f"p{turn.slot!r}":
                ring[index] = f"e{ended!r}"
                write(head, ring)


@dataclass
class HttpxTransport:
    """Sends requests with one pooled httpx client, honouring timeout, budget, rate limit and body cap."""

    timeout: float = DEFAULT_TIMEOUT
    verify: bool | str = True
    max_requests: int | None = None
    rate_limit: RateLimit | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_429_retries: int = 3
    client: httpx.Client | None = None
    stats: TransportStats = field(default_factory=TransportStats)
    # The clock and sleep that pace requests (rate limit, Retry-After); self-tests pass fakes, so that
    # pacing is proved without measuring wall-clock time.
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    ledger: Ledger | None = None  # the budget and rate shared with the run's other processes
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_slot: float = 0.0
    # The rate limit at the server (see `_take_turn`): requests numbered in the order they take their turn,
    # and the end times of those whose successor `count` places later has not taken its turn yet.
    _numbered: int = 0
    _ends: dict[int, float] = field(default_factory=dict)
    _ended: threading.Condition = field(init=False)
    _cancelled: threading.Event = field(default_factory=threading.Event)  # set while `cancelling`
    # The client's open connections, for `cancelling` to shut: a WeakSet, so a closed connection is forgotten.
    _streams: weakref.WeakSet[_DeadlineStream] = field(default_factory=weakref.WeakSet)

    def __post_init__(self) -> None:
        self._ended = threading.Condition(self._lock)
        if self.client is None:
            # trust_env: proxies (HTTP(S)_PROXY, NO_PROXY) and SSL_CERT_FILE from the standard variables.
            # No cookie jar that keeps anything: every case goes out as generated, so a Set-Cookie from one
            # answer (a session, an echoed token) is never sent with a later case or probe.
            # Accept-Encoding names only what `_BoundedDecoder` decodes, whatever decoders httpx has.
            self.client = httpx.Client(
                timeout=self.timeout,
                verify=tls_verify(self.verify),
                trust_env=True,
                transport=_deadline_transport(self.verify, self._streams),
                cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
                headers={"Accept-Encoding": ACCEPT_ENCODING},
            )

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def sent_headers(
        self, method: str, url: str, *, headers: dict[str, str] | None, params: Any, content: bytes | None
    ) -> dict[str, str]:
        """Every header `request` would put on the wire for these arguments (the client's own, Host and
        Content-Length included), built the way it is sent but not sent: what a reproduction shows."""
        assert self.client is not None
        built = self.client.build_request(method, url, headers=headers, params=params, content=content).headers
        out: dict[str, str] = {}
        for raw_name, raw_value in built.raw:  # names as sent, not lower-cased
            name, value = raw_name.decode(built.encoding), raw_value.decode(built.encoding)
            out[name] = f"{out[name]}, {value}" if name in out else value
        return out

    def reserve(self) -> None:
        """Count one request against the budget now, for a `request(..., reserved=True)` to come: a run with
        `--workers` reserves each case's request in generation order on its own thread, so which cases the
        budget covers does not depend on the timing of the threads that send them. BudgetExhausted when spent."""
        with self._lock:
            if self.ledger is not None:
                try:
                    self.ledger.take(self.max_requests, None, self.clock())
                except BudgetExhausted:
                    self.stats.budget_exhausted = True
                    raise
            else:
                self._count_budget()
            self.stats.requests += 1

    def budget_left(self) -> int | None:
        """Requests this process may still reserve or send under --max-requests; None when there is no budget,
        or when it is shared with other processes (xdist), where which process spends its last slots is a
        matter of their timing anyway."""
        with self._lock:
            if self.max_requests is None or self.ledger is not None:
                return None
            return self.max_requests - self.stats.requests

    def _count_budget(self) -> None:
        """One request against this process's budget (the lock held)."""
        if self.max_requests is not None and self.stats.requests >= self.max_requests:
            self.stats.budget_exhausted = True
            raise BudgetExhausted(f"{BUDGET_NOTE} of {self.max_requests} was spent before this check ran")

    def _acquire(self, *, reserved: bool = False) -> int | LedgerTurn | None:
        """Take a budget slot (unless `reserved` by `reserve`) and the next rate slot, then wait for that slot.
        Slots are handed out under the lock (or the xdist ledger's), so they stay evenly spaced whichever
        thread or process takes them. Returns the request's number under the rate limit (None without one):
        the caller passes it to `_end` when the exchange is over, whatever its outcome."""
        if self.ledger is not None:
            return self._take_ledger_turn(self.ledger, reserved=reserved)
        with self._lock:
            if not reserved:
                self._count_budget()
                self.stats.requests += 1
            if self.rate_limit is None:
                return None
            number = self._numbered
            self._numbered += 1
        try:
            self._take_turn(number, self.rate_limit)
        except BaseException:  # cancelled, interrupted: the turn ends unused, so its successor is not held up
            self._end(number)
            raise
        return number

    def _take_ledger_turn(self, ledger: Ledger, *, reserved: bool) -> LedgerTurn | None:
        """`_acquire` under xdist: the budget, the slot and the bound of `_take_turn` come from the ledger
        shared by the run's processes; while the request `count` places earlier (in any process) is on the
        wire, poll."""
        while True:
            with self._lock:
                now = self.clock()
                try:
                    turn = ledger.take_turn(
                        self.max_requests, self.rate_limit, now, count=not reserved, stale_after=self.timeout
                    )
                except BudgetExhausted:
                    self.stats.budget_exhausted = True
                    raise
                if turn is not None and not reserved:
                    self.stats.requests += 1
            if turn is not None:
                break
            self._wait(LEDGER_POLL)  # cut short by `cancelling`
        if self.rate_limit is None:
            return None
        try:
            if self._cancelled.is_set():
                raise SendCancelled("the run was interrupted before this request was sent")
            if turn.slot > now:
                self._wait(turn.slot - now)
        except BaseException:  # cancelled, interrupted: the turn ends unused
            self._end(turn)
            raise
        return turn

    def _take_turn(self, number: int, rate: RateLimit) -> None:
        """Wait for request `number`'s send time under `rate`: its evenly spaced slot, and no earlier than
        `rate.period` after the exchange of request `number - rate.count` ended.

        The second bound makes the rate hold where it counts, at the server's arrival times, whatever the
        network's jitter: a server receives a request before its exchange ends, so arrival(k) <= end(k) <
        send(k + count) - period <= arrival(k + count) - period, and by induction the same holds for
        k + 2*count, k + 3*count...; of any count + 1 requests two are a multiple of count apart, so no window
        of `period` at the server holds more than `count` arrivals. Even spacing alone is exact only at the
        sender: request k delayed on the way and k + count on time would land in one window."""
        with self._ended:
            previous = number - rate.count
            while previous >= 0 and previous not in self._ends:
                if self._cancelled.is_set():
                    raise SendCancelled("the run was interrupted before this request was sent")
                self._ended.wait()  # `_end` and `cancelling` notify
            now = self.clock()
            slot = max(now, self._next_slot)
            if previous >= 0:
                slot = max(slot, self._ends.pop(previous) + rate.period)
            self._next_slot = slot + rate.interval
        if slot > now:
            self._wait(slot - now)

    def _end(self, number: int | LedgerTurn | None) -> None:
        """Request `number`'s exchange is over (answered, failed or never sent): record when, for the
        request `count` places later (in the ledger for a turn taken from it)."""
        if number is None:
            return
        if isinstance(number, LedgerTurn):
            assert self.ledger is not None and self.rate_limit is not None
            self.ledger.end(number, self.rate_limit, self.clock())
            return
        with self._ended:
            self._ends[number] = self.clock()
            self._ended.notify_all()

    def _wait(self, seconds: float) -> None:
        """Sleep for pacing; on the real clock, a wait that `cancelling` cuts short (SendCancelled)."""
        if self.sleep is time.sleep:
            if self._cancelled.wait(seconds):
                raise SendCancelled("the run was interrupted before this request was sent")
        else:
            self.sleep(seconds)

    def _count(self, name: str) -> None:
        with self._lock:  # the sending threads of --workers share these counters
            setattr(self.stats, name, getattr(self.stats, name) + 1)

    @contextlib.contextmanager
    def cancelling(self) -> Iterator[None]:
        """While the block runs, every request of another thread ends at once with SendCancelled: one waiting
        for its rate slot stops waiting, one on the wire has its connection shut (which wakes a blocked read).
        What an interrupted run with `--workers` does before it joins its sending threads."""
        self._cancelled.set()
        try:
            with self._ended:  # a request waiting for its predecessor's end stops waiting
                self._ended.notify_all()
            for stream in list(self._streams):
                stream.shut()
            yield
        finally:
            self._cancelled.clear()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: Any = None,
        content: bytes | None = None,
        reserved: bool = False,
    ) -> httpx.Response:
        """Send one request; 429 with Retry-After is waited out and retried up to a bound. `reserved`: its
        budget slot was taken by `reserve` (a retry takes a slot of its own)."""
        for attempt in range(self.max_429_retries + 1):
            response = self._send_once(
                method, url, headers=headers, params=params, content=content, reserved=reserved and attempt == 0
            )
            if response.status_code != 429 or attempt == self.max_429_retries:
                return response
            delay = _retry_after(response.headers.get("retry-after"))
            if delay is None or delay > MAX_RETRY_AFTER:
                return response  # no hint, or longer than we wait: the 429 stands
            self._count("retried_429")
            self._wait(delay)
        return response  # pragma: no cover - the loop always returns

    def _send_retrying_connect(self, request: httpx.Request) -> httpx.Response:
        """Send; a failed connection is retried once before the target counts as unreachable."""
        assert self.client is not None
        try:
            try:
                return self.client.send(request, stream=True)
            except httpx.ConnectError:
                return self.client.send(request, stream=True)
        except httpx.TransportError:
            if self._cancelled.is_set():  # the connection was shut by `cancelling`, not by the target
                raise SendCancelled("the run was interrupted while this request was on the wire") from None
            raise

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None,
        params: Any,
        content: bytes | None,
        reserved: bool = False,
    ) -> httpx.Response:
        try:
            return self._send_within_deadline(
                method, url, headers=headers, params=params, content=content, reserved=reserved
            )
        finally:
            _DEADLINE.at = None

    def _send_within_deadline(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None,
        params: Any,
        content: bytes | None,
        reserved: bool,
    ) -> httpx.Response:
        number = self._acquire(reserved=reserved)
        try:
            return self._exchange(method, url, headers=headers, params=params, content=content)
        finally:
            self._end(number)

    def _exchange(
        self, method: str, url: str, *, headers: dict[str, str] | None, params: Any, content: bytes | None
    ) -> httpx.Response:
        """Send one request in its turn and read its answer, bounded in time and size."""
        assert self.client is not None
        if self._cancelled.is_set():
            raise SendCancelled("the run was interrupted before this request was sent")
        request = self.client.build_request(method, url, headers=headers, params=params, content=content)
        started = time.monotonic()
        deadline = started + self.timeout
        _DEADLINE.at = deadline
        try:
            response = self._send_retrying_connect(request)
        except httpx.TimeoutException:
            self._count("timeouts")
            raise RequestTimedOut(method, str(request.url), self.timeout) from None
        except (httpx.ConnectError, httpx.UnsupportedProtocol) as exc:
            raise TargetUnreachable(f"cannot reach {_origin(request.url)}: {_cause(exc)}") from None
        except httpx.LocalProtocolError as exc:
            raise UnsendableRequest(f"{method} {request.url}: {_cause(exc)}") from None
        except httpx.ProxyError as exc:
            raise TargetUnreachable(f"cannot reach {_origin(request.url)} through the proxy: {_cause(exc)}") from None
        except httpx.TransportError as exc:  # reset, protocol error, write error...: the exchange broke
            raise BrokenResponse(f"{method} {request.url}: {_cause(exc)}") from None
        capped = False
        chunks: list[bytes] = []
        size = 0
        codings = content_codings(response.headers.get("content-encoding"))
        decoder = _BoundedDecoder(codings) if codings is not None else None
        try:
            for chunk in _body_chunks(response, decoder):
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_body_bytes:
                    capped = True
                    break
                if time.monotonic() > deadline:
                    self._count("timeouts")
                    raise RequestTimedOut(method, str(request.url), self.timeout)
        except httpx.TimeoutException:
            self._count("timeouts")
            raise RequestTimedOut(method, str(request.url), self.timeout) from None
        except httpx.TransportError as exc:
            if self._cancelled.is_set():  # the connection was shut by `cancelling`, not broken by the target
                raise SendCancelled("the run was interrupted while this request was on the wire") from None
            raise BrokenResponse(f"{method} {request.url}: response broken mid-body: {_cause(exc)}") from None
        except zlib.error as exc:
            encoding = response.headers.get("content-encoding", "")
            raise BrokenResponse(f"{method} {request.url}: the body does not decode as {encoding!r}: {exc}") from None
        finally:
            response.close()
        body = b"".join(chunks)[: self.max_body_bytes]
        del chunks
        headers_out = httpx.Headers(response.headers)
        # Decoded and complete (or capped), so encoding/length headers no longer apply; an encoding we do
        # not decode stays named, since the body is still in it.
        for name in ("content-encoding", "content-length", "transfer-encoding") if decoder else ("content-length",):
            headers_out.pop(name, None)
        if capped:
            self._count("capped_bodies")
            headers_out[CAP_HEADER] = str(self.max_body_bytes)
        result = httpx.Response(
            response.status_code, headers=headers_out, content=body, request=request, extensions=response.extensions
        )
        result.elapsed = timedelta(seconds=time.monotonic() - started)
        if 200 <= result.status_code < 300 and method.upper() in CREATING_METHODS:
            # Counted here, so Schemathesis's own probes (sent through this transport too) are included.
            self._count("created")
        return result


# --- the request deadline ----------------------------------------------------------------------------------------
# httpx's timeouts bound each socket operation, not the request: a server that drips a byte every
# half second never trips a 1 s read timeout. httpx has no total timeout, so each socket operation's
# timeout is cut to what is left of the request's deadline, in a network backend wrapped around
# httpcore's (the one private attribute touched is the pool's backend, guarded below).


class _Deadline(threading.local):
    at: float | None = None


_DEADLINE = _Deadline()


def _remaining(timeout: float | None) -> float | None:
    """`timeout` cut to what is left of this thread's request deadline; a spent deadline is a timeout."""
    if _DEADLINE.at is None:
        return timeout
    left = _DEADLINE.at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's deadline (--request-timeout) passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, streams: weakref.WeakSet[_DeadlineStream]) -> None:
        self.inner = inner
        self.streams = streams  # every connection of the transport (HttpxTransport.cancelling shuts them)
        streams.add(self)

    def shut(self) -> None:
        """Shut the connection's socket down, from any thread: a read blocked on it returns at once (closing
        the descriptor would not wake it)."""
        sock = self.inner.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, _remaining(timeout)), self.streams)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, streams: weakref.WeakSet[_DeadlineStream]) -> None:
        self.inner = inner
        self.streams = streams

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self.inner.connect_tcp(host, port, _remaining(timeout), local_address, socket_options)
        return _DeadlineStream(stream, self.streams)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self.inner.connect_unix_socket(path, _remaining(timeout), socket_options)
        return _DeadlineStream(stream, self.streams)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def tls_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """What httpx takes for `verify`: a CA bundle path becomes a context (httpx deprecates the path form)."""
    return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify


def _deadline_transport(verify: bool | str, streams: weakref.WeakSet[_DeadlineStream]) -> httpx.HTTPTransport:
    """httpx's own transport, whose connections honour the request deadline (and are kept in `streams`)."""
    transport = httpx.HTTPTransport(verify=tls_verify(verify), trust_env=True)
    compat.wrap_network_backend(transport, lambda inner: _DeadlineBackend(inner, streams))
    return transport


def _raw_chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body as it arrives; in-memory responses (respx, MockTransport) are already read."""
    try:
        yield from response.iter_raw()
    except httpx.StreamConsumed:
        yield response.content


# --- bounded decoding of Content-Encoding ------------------------------------------------------------------------
# Decoded here rather than by httpx: httpx's decoders return all a chunk expands to, so 1 MB of gzip
# becomes 1 GiB in one call, before any cap or deadline can act. zlib's decompressobj takes a maximum
# output length, so the body is decoded in bounded steps and the caller stops at --max-body-bytes and
# at the request deadline. Only gzip and deflate are decoded (and requested in Accept-Encoding): httpx
# decodes brotli and zstd only when optional packages are installed, and we never ask for them.

ACCEPT_ENCODING = "gzip, deflate"
_STEP = 64 * 1024  # decoded bytes produced per step: the memory a decoding stage holds at once
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def content_codings(header: str | None) -> list[str] | None:
    """The codings to undo, outermost first (`gzip, gzip` nests); None if one is not ours to decode."""
    codings = [c.strip().lower() for c in (header or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if any(c not in _WBITS for c in codings):
        return None  # left as sent, Content-Encoding kept: judged as the bytes they are
    return codings[::-1]


class _Stage:
    """One coding undone in bounded steps."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.inner = zlib.decompressobj(_WBITS[coding])
        self.started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self.started and self.coding == "deflate" and data:
            self.started = True
            try:  # "deflate" is meant to be zlib-wrapped; some servers send raw deflate (as httpx allows)
                probe = zlib.decompressobj(zlib.MAX_WBITS)
                probe.decompress(data[:2], 0)
            except zlib.error:
                self.inner = zlib.decompressobj(-zlib.MAX_WBITS)
        while data:
            out = self.inner.decompress(data, _STEP)
            data = self.inner.unconsumed_tail
            if out:
                yield out
            if self.inner.eof:
                return  # trailing bytes after the end of the stream are ignored, as httpx does

    def finish(self) -> Iterator[bytes]:
        while not self.inner.eof:
            out = self.inner.decompress(self.inner.unconsumed_tail, _STEP)
            if not out:
                break
            yield out


class _BoundedDecoder:
    """A chain of `_Stage`s: each raw chunk comes out as decoded pieces of at most `_STEP` bytes."""

    def __init__(self, codings: list[str]) -> None:
        self.stages = [_Stage(c) for c in codings]

    def _through(self, pieces: Iterable[bytes], stages: list[_Stage]) -> Iterator[bytes]:
        if not stages:
            yield from pieces
            return
        first, rest = stages[0], stages[1:]
        for piece in pieces:
            yield from self._through(first.feed(piece), rest)

    def decode(self, chunk: bytes) -> Iterator[bytes]:
        return self._through([chunk], self.stages)

    def flush(self) -> Iterator[bytes]:
        for n, stage in enumerate(self.stages):
            yield from self._through(stage.finish(), self.stages[n + 1 :])


def _body_chunks(response: httpx.Response, decoder: _BoundedDecoder | None) -> Iterator[bytes]:
    """The body as it arrives, decoded in bounded pieces when it has a coding we undo."""
    if decoder is None or not decoder.stages:
        yield from _raw_chunks(response)
        return
    for chunk in _raw_chunks(response):
        yield from decoder.decode(chunk)
    yield from decoder.flush()


def _no_constant(name: str) -> Any:
    raise _NotJson(name)


class _NotJson(ValueError):
    """A JSON body spells NaN, Infinity or -Infinity."""


def non_json_constant(response: httpx.Response) -> str | None:
    """Why a JSON response body is not JSON (RFC 8259) although Python's parser takes it: it holds
    `NaN`, `Infinity` or `-Infinity`. None for a conforming body, a body that is not JSON at all (that
    is the schema check's to judge) or one too deep to parse here."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (content_type == "application/json" or content_type.endswith("+json")):
        return None
    try:
        json.loads(response.content, parse_constant=_no_constant)
    except _NotJson as exc:
        return f"the JSON body holds {exc}, which is not JSON (RFC 8259): a strict parser rejects the whole body"
    except (ValueError, RecursionError):
        return None
    return None


def header_dict(headers: httpx.Headers) -> dict[str, str]:
    """Headers as a plain dict, repeated names joined with ", " (as httpx does), in time linear in their
    number: `dict(headers)` looks every name up again by a scan of all of them, quadratic in httpx."""
    out: dict[str, str] = {}
    for name, value in headers.multi_items():
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """A cookie policy that accepts no cookie and returns none: no state between cases."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def _retry_after(value: str | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


def _origin(url: httpx.URL) -> str:
    """scheme://host[:port], without any credentials the URL carries."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def _cause(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


def encode_json_body(value: Any) -> bytes:
    """JSON text as we send it: compact UTF-8, so non-ASCII reaches the server as raw bytes (the way
    browsers and most clients send it, and the way a server's UTF-8 decoding gets tested).

    A lone surrogate has no UTF-8 form: such a body goes ASCII-escaped instead, still valid JSON text.
    A negative case may carry NaN/Infinity on purpose; it is sent as Python writes it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode()


def request_from_kwargs(kwargs: dict[str, Any]) -> tuple[str, str, dict[str, str], Any, bytes | None]:
    """Map Schemathesis's requests-style transport kwargs onto an httpx request."""
    headers = {str(k): str(v) for k, v in (kwargs.get("headers") or {}).items()}
    content: bytes | None = None
    if "json" in kwargs:
        content = encode_json_body(kwargs["json"])
        headers.setdefault("Content-Type", "application/json")
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        content = data if isinstance(data, bytes) else str(data).encode()
    cookies = kwargs.get("cookies")
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return kwargs["method"], kwargs["url"], headers, kwargs.get("params"), content


class _SchemathesisAdapter(RequestsTransport):
    """Schemathesis transport whose `send` goes through our HttpxTransport (used by its probes)."""

    def __init__(self, transport: HttpxTransport, base_url: str) -> None:
        super().__init__()
        from schemathesis.transport.requests import REQUESTS_TRANSPORT

        compat.copy_serializers(self, REQUESTS_TRANSPORT)
        self._ours = transport
        self._base_url = base_url

    def send(self, case: Any, *, session: Any = None, **kwargs: Any) -> StResponse:
        base_url = kwargs.pop("base_url", None) or self._base_url
        data = self.serialize_case(case, base_url=base_url, headers=kwargs.get("headers"))
        method, url, headers, params, content = request_from_kwargs(data)
        response = self._ours.request(method, url, headers=headers, params=params, content=content)
        return StResponse.from_httpx(response, verify=True)


def route_schema_through(schema: Any, transport: HttpxTransport, base_url: str) -> None:
    """Make every request Schemathesis sends for `schema` (cases and probes) go through `transport`."""
    compat.route_schema_transport(schema, _SchemathesisAdapter(transport, base_url))
