"""HTTP to the store: the process's one session, one retry policy, and one time budget per request.

Every call to the store goes through ``send`` inside ``with_retries``:

- **One budget.** The handler opens ``time_budget`` with the time Lambda leaves the invocation, less a
  margin to answer. Every attempt's connect and read timeouts are cut to what is left, back-off waits
  only when another attempt still fits, and when nothing is left the call fails as ``StoreTimeout``
  (504): the caller gets our answer, never API Gateway's generic one after the function was killed.
  Socket timeouts bound each read, not an exchange (a store can drip its headers or body a byte at a
  time), so each attempt, token renewal and secret read included, also runs under a wall-clock bound:
  in a worker thread that is abandoned when the budget is spent.
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
import contextvars
import functools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from orders_api.errors import StoreAnswerBroken, StoreError, StoreTimeout, StoreUnavailable
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
_bounded_already: ContextVar[bool] = ContextVar("store_bounded_already", default=False)
# Threads that run store attempts under a wall-clock bound. A thread whose attempt was abandoned ends
# when its socket times out (at most the read timeout after the last byte), so a few suffice.
_WORKERS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="store-call")

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


@dataclass(frozen=True)
class Timeouts:
    """The configured (connect, read) timeouts of one store call, in seconds."""

    connect: float
    read: float


@dataclass
class HttpAnswer:
    """A store answer read in full: status, headers and body."""

    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not JSON (or nests too deeply to parse)."""
        try:
            return json.loads(self.content)
        except RecursionError as error:
            raise ValueError("the answer nests too deeply") from error


def new_session(user_agent: str = "orders-api") -> requests.Session:
    """A keep-alive session that never retries by itself (``with_retries`` does, once, for all).

    Create it once per process and reuse it across warm invocations.
    """
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    return session


def with_retries(
    attempt: Callable[[tuple[float, float]], T], timeouts: Timeouts, *, repeat_safe: bool = True
) -> T:
    """Run ``attempt(timeout)`` until it succeeds, fails for good, or the budget or attempts run out.

    ``attempt`` receives the (connect, read) timeout for this try and raises ``StoreUnavailable``,
    ``StoreTimeout`` or ``StoreAnswerBroken`` for failures worth another try. With ``repeat_safe``
    False, a failure after which the store may have applied the request is not tried again.
    """
    deadline = _deadline.get()
    if deadline is None:
        deadline = time.monotonic() + DEFAULT_BUDGET_SECONDS
    for number in range(1, ATTEMPTS + 1):
        left = deadline - time.monotonic()
        if left < MIN_ATTEMPT_SECONDS:
            raise StoreTimeout("The store did not answer within the request's time budget.")
        timeout = (min(timeouts.connect, left), min(timeouts.read, left))
        try:
            return within(left, functools.partial(attempt, timeout))
        except (StoreUnavailable, StoreTimeout, StoreAnswerBroken) as error:
            pause = BACKOFF_SECONDS * 2 ** (number - 1)
            if number == ATTEMPTS or deadline - time.monotonic() < pause + MIN_ATTEMPT_SECONDS:
                raise
            if not repeat_safe and error.may_have_applied:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``, or StoreTimeout once ``seconds`` have passed, whatever ``call`` is blocked on.

    Inside a call already bounded (a token renewal within an attempt), ``call`` runs as it is.
    """
    if _bounded_already.get():
        return call()
    context = contextvars.copy_context()
    context.run(_bounded_already.set, True)
    future = _WORKERS.submit(context.run, call)
    try:
        return future.result(timeout=max(seconds, 0.0))
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise StoreTimeout("The store did not finish answering within the request's time budget.") from None


def within_budget(call: Callable[[], T]) -> T:
    """``call()`` bounded by what is left of the current budget (the default budget outside one)."""
    left = seconds_left()
    return within(DEFAULT_BUDGET_SECONDS if left is None else left, call)


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
        answer = _exchange(session, method, url, timeout, what, **kwargs)
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
