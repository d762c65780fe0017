"""Lambda execution environments on one machine: how ``make run`` invokes the function concurrently.

Deployed, API Gateway hands each request to one of many execution environments. Each is a process of
its own with its own init (a cold start), store session, token and caches, and handles one invocation
at a time; Lambda starts a new one when all are busy, up to the function's concurrency, and keeps idle
ones warm. ``ExecutionEnvironments`` does the same here: each environment is a Python process started
with ``spawn`` (nothing shared with this one but the environment variables), it imports
``orders_api.handler`` itself, and runs one invocation at a time; at most ``cap`` run at once, and a
request that finds them all busy waits for one to come free.

Where Lambda and this differ: a function that raises is answered 500 ``Internal Server Error`` and its
environment replaced, as API Gateway and Lambda do; a request that waits longer than API Gateway's 30 s
for an environment or an answer gets 503 (deployed, a throttled request is refused at once).

Hand-written rather than ``concurrent.futures.ProcessPoolExecutor`` or ``multiprocessing.Pool``: those
hand a task to any free worker without saying which, start every worker up front, and neither tells a
cold start from a warm one nor replaces a worker that a call killed, which is what this module is for.
"""

from __future__ import annotations

import importlib
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol, TextIO

# The handler setting of the deployed function (cdk_app/function.py).
HANDLER = "orders_api.handler.lambda_handler"
# API Gateway's integration timeout: no request waits longer for an environment or its answer.
GATEWAY_TIMEOUT_SECONDS = 30.0
# The function's own timeout as deployed (cdk_app/function.py): the context's remaining time.
FUNCTION_TIMEOUT_MS = 28_000
CRASHED = {
    "statusCode": 500,
    "headers": {"Content-Type": "application/json"},
    "body": '{"message":"Internal Server Error"}',
}
TIMED_OUT = {
    "statusCode": 503,
    "headers": {"Content-Type": "application/json"},
    "body": '{"message":"Service Unavailable"}',
}


@dataclass(frozen=True)
class Invocation:
    """What one invocation answered, and where it ran: the environment's number, and whether that
    environment started for it (a cold start)."""

    result: dict[str, Any]
    environment: int
    cold: bool


class Invoker(Protocol):
    """Runs one API Gateway event through the function."""

    def invoke(self, event: dict[str, Any]) -> Invocation: ...

    def close(self) -> None: ...


class InProcess:
    """The function in this very process, one invocation at a time: one warm environment (tests)."""

    def __init__(self, lambda_handler: Any) -> None:
        self._handler = lambda_handler
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> Invocation:
        from localdev.api import LocalContext

        with self._lock:
            return Invocation(self._handler(event, LocalContext.leaving(FUNCTION_TIMEOUT_MS)), 1, False)

    def close(self) -> None:
        """Nothing to stop."""


class _Environment:
    """One process that imported the function and serves invocations sent over a pipe."""

    def __init__(self, number: int, handler: str) -> None:
        self.number = number
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, handler), name=f"lambda-environment-{number}", daemon=True
        )
        self.process.start()
        child.close()
        self.used = False

    def invoke(self, event: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The function's answer, or API Gateway's when it crashed (500) or gave none in time (503);
        after either, the process is gone."""
        answered = False
        try:
            self.connection.send(event)
            if self.connection.poll(timeout):
                outcome, result = self.connection.recv()
                if outcome == "answer":
                    return dict(result)
                answered = True  # it raised, and said so before exiting
        except (EOFError, OSError):
            answered = True  # the process died mid-invocation
        self.stop()
        return CRASHED if answered else TIMED_OUT

    def stop(self) -> None:
        try:
            self.connection.close()
        finally:
            if self.process.is_alive():
                self.process.terminate()
            self.process.join(timeout=5)


class ExecutionEnvironments:
    """Up to ``cap`` environments, started on demand, kept warm while idle; one invocation each at a time.

    ``handler`` is the function as Lambda's handler setting names it, ``module.function``.
    """

    def __init__(self, cap: int, handler: str = HANDLER) -> None:
        if cap < 1:
            raise ValueError("at least one execution environment is needed")
        self.cap = cap
        self.handler = handler
        self._idle: list[_Environment] = []
        self._count = 0
        self._numbers = 0
        self._closed = False
        self._free = threading.Condition()

    def invoke(self, event: dict[str, Any]) -> Invocation:
        deadline = time.monotonic() + GATEWAY_TIMEOUT_SECONDS
        environment, cold = self._acquire(deadline)
        if environment is None:
            return Invocation(TIMED_OUT, 0, False)
        result = environment.invoke(event, max(0.1, deadline - time.monotonic()))
        if result is CRASHED or result is TIMED_OUT:
            self._retire()
        else:
            self._release(environment)
        return Invocation(result, environment.number, cold)

    def _acquire(self, deadline: float) -> tuple[_Environment | None, bool]:
        with self._free:
            while not self._idle and self._count >= self.cap:
                if self._closed or not self._free.wait(deadline - time.monotonic()):
                    return None, False
            if self._idle:
                return self._idle.pop(), False  # the most recently used: as warm as it gets
            self._count += 1
            self._numbers += 1
            number = self._numbers
        try:
            return _Environment(number, self.handler), True
        except BaseException:
            self._retire()
            raise

    def _release(self, environment: _Environment) -> None:
        with self._free:
            if self._closed:
                environment.stop()
                return
            self._idle.append(environment)
            self._free.notify()

    def _retire(self) -> None:
        with self._free:
            self._count -= 1
            self._free.notify()

    def close(self) -> None:
        """Stop every idle environment; busy ones stop when their invocation ends."""
        with self._free:
            self._closed = True
            idle, self._idle = self._idle, []
            self._free.notify_all()
        for environment in idle:
            environment.stop()


class _WithoutMetrics(io.TextIOBase):
    """Standard output without Powertools' metrics documents (``{"_aws": ...}``), which it prints for
    cold starts even with POWERTOOLS_METRICS_DISABLED: CloudWatch reads them, a console does not."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._dropped = False

    def write(self, text: str) -> int:
        if text.startswith('{"_aws"'):
            self._dropped = True  # print() writes the newline next, on its own
            return len(text)
        if self._dropped and text == "\n":
            self._dropped = False
            return len(text)
        self._dropped = False
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()


def _serve(connection: Connection, handler: str) -> None:
    """An environment's life: init (import the function), then one invocation per event received."""
    # Ctrl-C in make run's terminal reaches every process of its group: the parent stops this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        sys.stdout = _WithoutMetrics(sys.stdout)
    from localdev.api import LocalContext

    module_name, _, function_name = handler.rpartition(".")
    lambda_handler = getattr(importlib.import_module(module_name), function_name)

    while True:
        try:
            event = connection.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            result = lambda_handler(event, LocalContext.leaving(FUNCTION_TIMEOUT_MS))
        except Exception:
            # What Lambda does with an error that leaves the handler: it logs it and the environment
            # is not reused. The console shows the traceback, as CloudWatch would.
            traceback.print_exc()
            connection.send(("crash", None))
            os._exit(1)
        connection.send(("answer", result))
