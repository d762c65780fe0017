"""Serve the Lambda function on localhost by turning each HTTP request into an API Gateway HTTP API
(payload 2.0) event and calling ``orders_api.handler.lambda_handler``.

Why an adapter instead of Powertools' ASGI resolver: the Lambda uses ``APIGatewayHttpResolver`` with its
Logger/Tracer/Metrics decorators and the 64 KiB check in ``lambda_handler``; calling that very function
with the event API Gateway would send runs the same routes, parsing and client code as production.
Who runs the function is an ``Invoker`` (``localdev.environments``): ``make run`` hands each request to
one of several execution environments, as Lambda does; tests may call it in process.

Every request gets one line in the console (``access_log``): method, path without its query, status,
latency, the environment and whether it started cold, and the caller, or why the request was refused
before the function. Never a header's value, so never a token.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from localdev import swagger
from localdev.environments import InProcess, Invocation, Invoker

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
# (method, Authorization header) -> the event's requestContext.authorizer, or a refusal with .status
# and .message (see localdev/tokens.py).
Authorize = Callable[[str, str | None], Any]

# Connections waiting to be accepted: a burst of clients (astrapy's insert_many opens 20, a load test
# hundreds) is queued, not reset. The kernel caps it at net.core.somaxconn (4096 on current Linux).
LISTEN_BACKLOG = 1024
# API Gateway refuses bodies over 10 MB before the function sees them.
GATEWAY_MAX_BODY = 10 * 1024 * 1024
TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-www-form-urlencoded")


@dataclass
class LocalContext:
    """The parts of a Lambda context the Powertools decorators read."""

    function_name: str = "orders-api-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:orders-api-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/orders-api-local"
    log_stream_name: str = "local"
    deadline_ms: int = field(default_factory=lambda: int(time.time() * 1000) + 29_000)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))

    @classmethod
    def leaving(cls, remaining_ms: int) -> LocalContext:
        """A context whose invocation has ``remaining_ms`` left from now."""
        return cls(deadline_ms=int(time.time() * 1000) + remaining_ms)


def http_api_event(
    method: str,
    target: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The HTTP API payload 2.0 event API Gateway would send for this request (``$default`` route).

    ``headers`` as a mapping, or as the (name, value) pairs sent, a name repeated as often as it was.
    """
    # A request target is a path and a query, never a URL: "//[x" is a path, not a host.
    path, _, raw_query = target.partition("?")
    path = path.partition("#")[0]
    lowered: dict[str, str] = {}
    cookies: list[str] = []
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for name, value in pairs:
        key = name.lower()
        if key == "cookie":
            cookies.extend(cookie.strip() for cookie in value.split(";") if cookie.strip())
            continue
        # API Gateway joins repeated headers with commas.
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = datetime.now(UTC)
    request_id = base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("=")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path or "/",
        "rawQueryString": raw_query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        content_type = lowered.get("content-type", "")
        if content_type.startswith(TEXT_TYPES) or not content_type:
            try:
                event["body"] = body.decode()
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalApiServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body of a kept-alive answer
    # waited ~40 ms for the client's delayed ACK (measured with `make load`).
    disable_nagle_algorithm = True

    def __getattr__(self, name: str) -> Any:
        # Every method (GET, PATCH, TRACE, ...) goes to the function, which answers unknown ones in JSON.
        if name.startswith("do_"):
            return self._invoke
        raise AttributeError(name)

    def _invoke(self) -> None:
        if self.server.serve_docs and self.command in ("GET", "HEAD"):
            started = time.monotonic()
            page = swagger.answer(self.path.partition("?")[0])
            if page is not None:
                status, content_type, data = page
                self._send(status, {"Content-Type": content_type}, data)
                self._log(status, started, "Swagger UI")
                return
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._refuse(411, "Send the body with a Content-Length; chunked bodies are not read locally.")
            return
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            self._refuse(400, "The Content-Length header is not a number.")
            return
        length = int(declared)
        if length > GATEWAY_MAX_BODY:
            self._send(413, {"Content-Type": "application/json"}, b'{"message":"Request Entity Too Large"}')
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else None
        event = http_api_event(
            self.command, self.path, self.headers.items(), body, source_ip=self.client_address[0]
        )
        started = time.monotonic()
        caller = "anonymous"
        if self.server.authorize is not None:
            # What API Gateway's JWT authorizer does before the function runs.
            verdict = self.server.authorize(self.command, self.headers.get("Authorization"))
            if not isinstance(verdict, dict):
                self._refuse(verdict.status, verdict.message)
                self._log(
                    verdict.status,
                    started,
                    f"refused before the function: {verdict.reason or verdict.message}",
                )
                return
            event["requestContext"]["authorizer"] = verdict
            caller = str(verdict.get("jwt", {}).get("claims", {}).get("sub", "?"))
        invocation = self.server.invoker.invoke(event)
        result = invocation.result
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else str(payload).encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[str(name)] = ", ".join(str(v) for v in values)
        status = int(result.get("statusCode", 200))
        self._send(status, headers, data, result.get("cookies") or [])
        self._log(status, started, f"caller {caller}", invocation)

    def _log(self, status: int, started: float, who: str, invocation: Invocation | None = None) -> None:
        path = self.path.partition("?")[0]
        where = ""
        if invocation is not None and invocation.environment:
            where = f" env {invocation.environment} {'cold' if invocation.cold else 'warm'}"
        elapsed = (time.monotonic() - started) * 1000
        line = (
            f"{self.command} {_printable(path, 100)} {status} {elapsed:.0f} ms{where} {_printable(who, 200)}"
        )
        self.server.access_log(line)

    def _refuse(self, status: int, message: str) -> None:
        body = json.dumps({"message": message}).encode()
        self._send(status, {"Content-Type": "application/json"}, body)
        self.close_connection = True

    def _send(
        self, status: int, headers: dict[str, str], data: bytes, cookies: list[str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


def _printable(text: str, limit: int) -> str:
    shown = "".join(c if c.isprintable() else "?" for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _quiet(line: str) -> None:
    """No access log."""


class LocalApiServer(ThreadingHTTPServer):
    """An HTTP server whose every request is one invocation of the Lambda function.

    ``function`` is an ``Invoker`` (``localdev.environments.ExecutionEnvironments`` in ``make run``) or
    a plain handler, called in this process one invocation at a time.
    """

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        function: Invoker | LambdaHandler,
        verbose: bool = False,
        authorize: Authorize | None = None,
        access_log: Callable[[str], None] = _quiet,
        serve_docs: bool = False,
    ) -> None:
        super().__init__(address, _RequestHandler)
        self.serve_docs = serve_docs
        self.invoker: Invoker = InProcess(function) if callable(function) else function
        self.authorize = authorize
        self.verbose = verbose
        self.access_log = access_log

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"
