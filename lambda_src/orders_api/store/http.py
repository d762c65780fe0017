"""HTTP to the store: the process's one session, one retry policy, and one time budget per request.

Every call to the store goes through ``send`` inside ``with_retries``:

- **One budget.** The handler opens ``time_budget`` with the time Lambda leaves the invocation, less a
  margin to answer. Every attempt's connect and read timeouts are cut to what is left, back-off waits
  only when another attempt still fits, and when nothing is left the call fails as ``StoreTimeout``
  (504): the caller gets our answer, never API Gateway's generic one after the function was killed.
  Socket timeouts bound each read, not an exchange (a store can drip its headers or body a byte at a
  time), so each exchange also runs under a wall-clock bound: it is watched by one watchdog thread,
  which shuts the exchange's socket down once the budget is spent, and the exchange fails as
  ``StoreTimeout``. The exchange itself runs on the caller's thread: handing every store call to a
  worker thread and back cost two thread switches per call. Name resolution is
  bounded by the resolver's own timeouts only; a secret read past every cache (boto3) runs in a
  worker thread bounded by ``within_budget``.
- **One retry policy.** The session does not retry (urllib3 retries would multiply with ours) and does
  not follow redirects (they would carry the token header to whatever host the store names). A call is
  attempted at most ``ATTEMPTS`` times, for failures another attempt can cure: no connection, no
  answer in time, an answer cut off, or 429/502/503/504. Reads, Data API inserts of an ``_id`` chosen by
  us and compare-and-set updates are safe to repeat whatever happened. Unconditional writes (Document
  API PUT and DELETE) are repeated only when the store cannot have applied them (no connection, or it
  answered 429/503): after any other failure the caller reads back what was stored instead.
- **Named failures.** No connection (refused, DNS): ``StoreUnavailable`` (503). No answer in time
  (connect or read): ``StoreTimeout`` (504). An answer cut off, too large, or unreadable:
  ``StoreAnswerBroken`` (502). The body is read here, within the budget and at most ``MAX_ANSWER_BYTES``.

Exception messages of ``requests``/urllib3 are never kept: they can quote URLs and headers.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from orders_api.errors import StoreAnswerBroken, StoreError, StoreTimeout, StoreUnavailable
from orders_api.names import JSON
from orders_api.observability import remote_call

ATTEMPTS = 3
BACKOFF_SECONDS = 0.2
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A page of orders is a few tens of KiB; anything far larger is not an answer we asked for.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# Outside a budget (scripts, tests calling a store directly) a call may take this long, retries included.
DEFAULT_BUDGET_SECONDS = 25.0
# An attempt that could not even connect in this much time is not worth starting.
MIN_ATTEMPT_SECONDS = 0.05

_deadline: ContextVar[float | None] = ContextVar("store_deadline", default=None)
# Threads that run a call ``within_budget`` (the rare secret read past every cache). A thread whose
# call was abandoned ends when its socket times out, so a few suffice.
_WORKERS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="bounded-call")
# How often the watchdog looks for exchanges past their deadline, and how long it idles before it ends.
WATCHDOG_POLL_SECONDS = 0.02
WATCHDOG_IDLE_SECONDS = 5.0

T = TypeVar("T")


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Every store call inside this block, retries and back-off included, ends within ``seconds``."""
    token = _deadline.set(time.monotonic() + max(0.0, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def seconds_left() -> float | None:
    """What is left of the current budget, or None outside one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


class Timeouts(NamedTuple):
    """The configured (connect, read) timeouts of one store call, in seconds."""

    connect: float
    read: float


class HttpAnswer(NamedTuple):
    """A store answer read in full: status, headers and body."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not JSON (or nests too deeply to parse)."""
        try:
            return json.loads(self.content)
        except RecursionError as error:
            raise ValueError("the answer nests too deeply") from error


def new_session(user_agent: str = "orders-api", env: Mapping[str, str] = os.environ) -> requests.Session:
    """A keep-alive session that never retries by itself (``with_retries`` does, once, for all).

    Create it once per process and reuse it across warm invocations. The environment is read here,
    once: by default requests reads every proxy variable and looks for ``~/.netrc`` again on each
    request, its whole environment on every call. Where a proxy variable
    is set, requests keeps reading them (it alone applies ``NO_PROXY``); ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE`` (a private CA for a self-hosted store) is kept; ``.netrc`` is never used (the
    store's credentials travel in its token header).
    """
    session = requests.Session()
    adapter = _WatchedAdapter(max_retries=0, pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = JSON
    proxies = [name for name, value in env.items() if name.lower().endswith("_proxy") and value]
    if not [name for name in proxies if name.lower() != "no_proxy"]:
        session.trust_env = False
        ca_bundle = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE")
        if ca_bundle:
            session.verify = ca_bundle
    return session


def with_retries(
    attempt: Callable[[tuple[float, float]], T], timeouts: Timeouts, *, repeat_safe: bool = True
) -> T:
    """Run ``attempt(timeout)`` until it succeeds, fails for good, or the budget or attempts run out.

    ``attempt`` receives the (connect, read) timeout for this try and raises ``StoreUnavailable``,
    ``StoreTimeout`` or ``StoreAnswerBroken`` for failures worth another try. With ``repeat_safe``
    False, a failure after which the store may have applied the request is not tried again.
    """
    if _deadline.get() is None:
        with time_budget(DEFAULT_BUDGET_SECONDS):
            return with_retries(attempt, timeouts, repeat_safe=repeat_safe)
    deadline = _deadline.get() or 0.0
    for number in range(1, ATTEMPTS + 1):
        left = deadline - time.monotonic()
        if left < MIN_ATTEMPT_SECONDS:
            raise StoreTimeout("The store did not answer within the request's time budget.")
        timeout = (min(timeouts.connect, left), min(timeouts.read, left))
        try:
            return attempt(timeout)
        except (StoreUnavailable, StoreTimeout, StoreAnswerBroken) as error:
            pause = BACKOFF_SECONDS * 2 ** (number - 1)
            if number == ATTEMPTS or deadline - time.monotonic() < pause + MIN_ATTEMPT_SECONDS:
                raise
            if not repeat_safe and error.may_have_applied:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def within_budget(call: Callable[[], T]) -> T:
    """``call()`` in a worker thread, or StoreTimeout once what is left of the current budget (the
    default budget outside one) has passed, whatever ``call`` is blocked on. For calls that do not go
    through ``send`` and its watchdog: boto3's secret read past every cache."""
    left = seconds_left()
    future = _WORKERS.submit(contextvars.copy_context().run, call)
    try:
        return future.result(timeout=max(DEFAULT_BUDGET_SECONDS if left is None else left, 0.0))
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise StoreTimeout("The store did not finish answering within the request's time budget.") from None


def send(
    session: requests.Session,
    method: str,
    url: str,
    timeout: tuple[float, float],
    what: str = "The store",
    **kwargs: Any,
) -> HttpAnswer:
    """One HTTP exchange, its body read in full within the budget; failures as domain errors.

    Statuses are left to the caller, except those another attempt may cure (``RETRY_STATUSES``).
    Each exchange is an X-Ray subsegment where tracing is on.
    """
    with remote_call(method, url) as trace:
        answer = _watched_exchange(session, method, url, timeout, what, **kwargs)
        trace.record_answer(answer.status_code, len(answer.content))
        if answer.status_code == 504:
            raise StoreTimeout(f"{what} answered 504: it did not answer in time.")
        if answer.status_code in (429, 503):  # refused before doing anything
            raise _not_applied(StoreUnavailable(f"{what} answered {answer.status_code}: it is unavailable."))
        if answer.status_code in RETRY_STATUSES:
            raise StoreUnavailable(f"{what} answered {answer.status_code}: it is unavailable.")
        if 300 <= answer.status_code < 400:
            raise StoreError(f"{what} answered a redirect ({answer.status_code}); check the store URL.")
        return answer


def _watched_exchange(
    session: requests.Session, method: str, url: str, timeout: tuple[float, float], what: str, **kwargs: Any
) -> HttpAnswer:
    """``_exchange`` under the watchdog: past the budget's deadline its socket is shut down."""
    deadline = _deadline.get()
    exchange = _Exchange(deadline if deadline is not None else time.monotonic() + DEFAULT_BUDGET_SECONDS)
    token = _current_exchange.set(exchange)
    _WATCHDOG.watch(exchange)
    try:
        return _exchange(session, method, url, timeout, what, **kwargs)
    except Exception as error:
        if exchange.cut:
            raise StoreTimeout(
                f"{what} did not finish answering within the request's time budget."
            ) from error
        raise
    finally:
        _WATCHDOG.forget(exchange)
        _current_exchange.reset(token)


def _exchange(
    session: requests.Session, method: str, url: str, timeout: tuple[float, float], what: str, **kwargs: Any
) -> HttpAnswer:
    try:
        response = session.request(method, url, timeout=timeout, stream=True, allow_redirects=False, **kwargs)
    except requests.ConnectTimeout as error:
        raise _not_applied(StoreTimeout(f"{what} did not accept the connection in time.")) from error
    except requests.Timeout as error:
        raise StoreTimeout(f"{what} did not answer in time ({type(error).__name__}).") from error
    except requests.exceptions.SSLError as error:
        raise StoreError(f"The TLS handshake with {what.lower()} failed.") from error
    except requests.ConnectionError as error:
        if _never_connected(error):
            raise _not_applied(StoreUnavailable(f"{what} cannot be reached.")) from error
        raise StoreAnswerBroken(f"{what} closed the connection without an answer.") from error
    except requests.RequestException as error:
        raise StoreError(
            f"The request to {what.lower()} could not be sent ({type(error).__name__})."
        ) from error
    with response:
        content = _read_body(response, what)
    return HttpAnswer(response.status_code, content, dict(response.headers))


def _not_applied(error: StoreError) -> StoreError:
    """``error``, marked as a failure after which the store cannot have applied the request."""
    error.may_have_applied = False
    return error


def _read_body(response: requests.Response, what: str) -> bytes:
    deadline = _deadline.get()
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise StoreAnswerBroken(f"{what} answered more than {MAX_ANSWER_BYTES} bytes.")
            if deadline is not None and time.monotonic() > deadline:
                raise StoreTimeout(f"{what} did not finish its answer in time.")
            chunks.append(chunk)
    except requests.Timeout as error:
        raise StoreTimeout(f"{what} stopped answering midway.") from error
    except requests.RequestException as error:
        if error.args and isinstance(error.args[0], ReadTimeoutError):  # how requests reports it midway
            raise StoreTimeout(f"{what} stopped answering midway.") from error
        raise StoreAnswerBroken(f"{what} cut its answer off ({type(error).__name__}).") from error
    return b"".join(chunks)


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the connection itself failed (refused, unknown host), not an exchange on it."""
    reason: Any = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError)


class _Exchange:
    """One HTTP exchange and its wall-clock deadline; ``sock`` is set once a connection carries it.

    ``sock``, ``cut`` and ``done`` change only under the watchdog's lock, so a cut never reaches a socket
    after its exchange is over (when the connection may already carry the next one), and a cut decided
    before the socket was attached (during a slow connect) still reaches it.
    """

    __slots__ = ("cut", "deadline", "done", "sock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.sock: Any = None
        self.cut = False
        self.done = False


def _shut_down(sock: Any) -> None:
    """Make whatever read or write is blocked on ``sock`` end, without touching its TLS state (the
    reading thread is using it): the plain socket's shutdown, under any TLS layers."""
    while not isinstance(sock, socket.socket) and hasattr(sock, "socket"):
        sock = sock.socket  # urllib3's SSLTransport (TLS inside a TLS proxy tunnel)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current_exchange: ContextVar[_Exchange | None] = ContextVar("store_exchange", default=None)


class _Watchdog:
    """One daemon thread that cuts off exchanges past their deadline; it ends when idle, and starts again
    with the next exchange."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._exchanges: set[_Exchange] = set()
        self._thread: threading.Thread | None = None
        self._never = threading.Event()  # waited on for the poll interval (never set)

    def watch(self, exchange: _Exchange) -> None:
        with self.lock:
            self._exchanges.add(exchange)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="store-watchdog", daemon=True)
                self._thread.start()

    def attach(self, exchange: _Exchange, sock: Any) -> None:
        """``sock`` now carries ``exchange``; shut down at once if its deadline has already passed."""
        with self.lock:
            if exchange.done:
                return
            exchange.sock = sock
            if exchange.cut:
                _shut_down(sock)

    def forget(self, exchange: _Exchange) -> None:
        """The exchange is over: from now on nothing of it may be cut."""
        with self.lock:
            exchange.done = True
            exchange.sock = None
            self._exchanges.discard(exchange)

    def poll(self, now: float) -> bool:
        """Cut off every exchange past its deadline at ``now``; False when nothing is left to watch."""
        with self.lock:
            overdue = [exchange for exchange in self._exchanges if exchange.deadline <= now]
            self._exchanges.difference_update(overdue)
            for exchange in overdue:
                exchange.cut = True
                if exchange.sock is not None:
                    _shut_down(exchange.sock)
            return bool(self._exchanges or overdue)

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            self._never.wait(WATCHDOG_POLL_SECONDS)
            now = time.monotonic()
            if self.poll(now):
                idle_since = now
                continue
            with self.lock:
                if not self._exchanges and now - idle_since > WATCHDOG_IDLE_SECONDS:
                    self._thread = None
                    return


_WATCHDOG = _Watchdog()


def _attach(connection: HTTPConnection) -> None:
    exchange = _current_exchange.get()
    if exchange is not None and connection.sock is not None:
        _WATCHDOG.attach(exchange, connection.sock)


class _WatchedHTTPConnection(HTTPConnection):
    """An urllib3 connection that hands its socket to the exchange it carries (new or reused)."""

    def connect(self) -> None:
        super().connect()
        _attach(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    """The TLS twin of ``_WatchedHTTPConnection`` (its methods, then TLS's ``connect``)."""


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter with connections the watchdog can cut off."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
