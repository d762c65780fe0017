"""A fault-injecting HTTP/1.1 proxy for testing how the store clients cope with a misbehaving store.

What it is for: the fault tests put a :class:`FaultProxy` between the API's store client and the
embedded Stargate/Data API server (``localdev.stargate``) and program, per request, what goes wrong:
a slow answer, an error status, a garbled body, a connection cut before or after the store applied the
write, an answer that never comes. The proxy records every request it saw (and what it did to it), so
a test can assert attempt counts, time bounds and the data left in the store afterwards.
:func:`refused_url` and :func:`hanging_url` cover the two failures that happen before any proxy could
accept a connection: a refused connect and a connect that never completes.

Why hand-written: the maintained fault-injection tools (toxiproxy and the like) run as a separate
binary or container, which cannot be downloaded here, and work at the TCP level, so they cannot pick
"the insertOne, but not the findOne" on one keep-alive connection; scriptable HTTP proxies such as
mitmproxy are large applications run as their own process. No maintained Python library offers a
small in-process HTTP proxy with programmable faults. This module is the standard library only, runs
in-process, and only ever binds and connects to 127.0.0.1.

Usage (inside ``tests/faults`` import it as ``from .proxy import ...``, as ``conftest.py`` does, so
that there is one copy of the module)::

    with FaultProxy(store_url) as proxy:                   # store_url: e.g. the embedded server's
        proxy.add_fault(Status(503), Match(method="GET"), times=2)   # two 503s, then normal again
        proxy.add_fault(DropAnswer(), Match(body='"insertOne"'))     # store applies, answer lost
        client = make_store_client(base_url=proxy.url)     # the code under test, via the proxy
        with pytest.raises(StoreUnavailable):              # whatever the code should do
            client.insert(order)
        assert proxy.count(Match(body='"insertOne"')) == 1 # attempts that reached the proxy
        assert proxy.requests[-1].forwarded                # the store saw the last one

Faults: :class:`Delay`, :class:`Status` / :class:`Answer` (e.g. ``Answer(200, json={})``),
:class:`Garble`, :class:`Cut`, :class:`DropAnswer`, :class:`Stall`; write others by subclassing
:class:`Fault` (see :class:`Exchange`). Refused and hanging connects: :func:`refused_url`,
:func:`hanging_url`.

Model: each accepted client connection gets a thread, which reads requests one after another
(keep-alive, ``Content-Length`` or chunked bodies) and, for each, consults the rules in the order they
were added: the first rule that matches and is not used up decides; with no such rule the request is
forwarded unchanged. Requests are forwarded over one keep-alive upstream connection per client
connection; hop-by-hop headers are dropped and ``Host`` names the upstream. The answer goes back with
a ``Content-Length`` body. When the upstream cannot be reached the proxy answers 502.

Bounds: :meth:`FaultProxy.stop` shuts every socket down, which wakes every thread (stalled, delayed,
reading, forwarding), and returns within about a second; it raises if a thread is still alive then.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import http.client
import json as jsonlib
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import BinaryIO, Final
from urllib.parse import urlsplit

__all__ = [
    "Answer",
    "Cut",
    "Delay",
    "DropAnswer",
    "Exchange",
    "Fault",
    "FaultProxy",
    "Garble",
    "Match",
    "RequestRecord",
    "Rule",
    "Stall",
    "Status",
    "UpstreamAnswer",
    "hanging_url",
    "refused_url",
]

LOOPBACK: Final = "127.0.0.1"

# Headers that describe one connection, not the message: never passed on in either direction.
_HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_MAX_LINE: Final = 64 * 1024
_MAX_HEADERS: Final = 200
_MAX_BODY: Final = 64 * 1024 * 1024
# How often waiting threads look at the stop flag (and, when stalled, at the client's socket).
_POLL_S: Final = 0.02


# --------------------------------------------------------------------------------------------------
# Requests, matching, rules, records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """Selects requests: every criterion given must hold; ``Match()`` matches everything.

    ``method`` is compared case-insensitively; ``path`` is a substring of the request target (path and
    query, e.g. ``"/v2/namespaces/"`` or ``"page-size=3"``); ``body`` is a substring of the request body
    (``str`` is UTF-8 encoded), e.g. ``'"insertOne"'`` to pick one Data API command.
    """

    method: str | None = None
    path: str | None = None
    body: str | bytes | None = None

    def matches(self, method: str, path: str, body: bytes) -> bool:
        """Whether a request with this method, target and body is selected."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and self.path not in path:
            return False
        if self.body is not None:
            needle = self.body.encode() if isinstance(self.body, str) else self.body
            if needle not in body:
                return False
        return True

    def matches_record(self, record: RequestRecord) -> bool:
        """Whether a recorded request is selected."""
        return self.matches(record.method, record.path, record.body)


@dataclass
class RequestRecord:
    """One request the proxy read, and what happened to it (filled in as it goes).

    Everything but ``finished`` is set before the client can see the outcome; ``finished`` may lag
    behind the client's answer by a moment (:meth:`FaultProxy.settle` waits for it).
    """

    index: int
    """Position among all requests the proxy read, from 0."""
    connection: int
    """Which accepted client connection carried it, from 1 (equal numbers: keep-alive reuse)."""
    method: str
    path: str
    """The request target as sent: path and query."""
    headers: list[tuple[str, str]]
    body: bytes
    fault: str | None
    """The name of the fault applied (e.g. ``"DropAnswer"``), ``None`` when passed through unchanged."""
    started: float
    """``time.monotonic()`` when the request had been read."""
    forwarded: bool = False
    """The request was sent to the upstream (which may have applied it, even without an answer)."""
    upstream_status: int | None = None
    """The status the upstream answered, ``None`` if not forwarded or no answer came."""
    upstream_error: str | None = None
    """Why forwarding failed (the client then got a 502 unless a fault decided otherwise)."""
    status: int | None = None
    """The status the client was sent in full, ``None`` when cut, dropped, stalled or gone."""
    finished: float | None = None
    """``time.monotonic()`` when the proxy was done with it, ``None`` while in progress."""


@dataclass
class Rule:
    """A fault, the requests it applies to, and how often (``times=None``: every time)."""

    fault: Fault
    match: Match = field(default_factory=Match)
    times: int | None = None
    used: int = 0
    """How many requests this rule has decided so far."""

    @property
    def exhausted(self) -> bool:
        """A rule with ``times`` is used up after that many matching requests."""
        return self.times is not None and self.used >= self.times


@dataclass
class UpstreamAnswer:
    """An HTTP answer: what the upstream said, or what a fault says instead."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reason: str = ""

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def to_bytes(self, *, request_method: str = "GET", keep_alive: bool = True) -> bytes:
        """The answer as sent on the wire: status line, headers, ``Content-Length`` and body."""
        reason = self.reason or _reason(self.status)
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        bodiless = self.status < 200 or self.status in (204, 304)
        for name, value in self.headers:
            lowered = name.lower()
            if lowered in _HOP_BY_HOP:
                continue
            if lowered == "content-length" and request_method.upper() != "HEAD":
                continue  # recomputed below from the body actually sent
            lines.append(f"{name}: {value}")
        body = b"" if bodiless or request_method.upper() == "HEAD" else self.body
        if not bodiless and request_method.upper() != "HEAD":
            lines.append(f"Content-Length: {len(body)}")
        if not keep_alive:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


# --------------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------------


class Fault(abc.ABC):
    """What the proxy does with a request instead of plainly forwarding it.

    Subclass and implement :meth:`apply` with the :class:`Exchange` primitives to add a fault. Socket
    errors raised while talking to the client (it went away) are caught by the proxy; any other
    exception closes the connection and is raised again, wrapped, by :meth:`FaultProxy.stop`. Waits
    must use :meth:`Exchange.sleep` (not ``time.sleep``) so that ``stop()`` can end them.
    """

    @property
    def name(self) -> str:
        """The name recorded in :attr:`RequestRecord.fault`."""
        return type(self).__name__

    @abc.abstractmethod
    def apply(self, exchange: Exchange) -> None:
        """Handle one request: answer it, cut it, hold it, forward it or not."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{self.name}({fields})"


class _PassThrough(Fault):
    """Forward the request and send back the upstream's answer (what happens with no matching rule)."""

    def apply(self, exchange: Exchange) -> None:
        exchange.send_answer(exchange.forward())


_PASS_THROUGH: Final = _PassThrough()


class Delay(Fault):
    """Wait ``seconds`` before forwarding (a slow network or store), then pass the answer on.

    With ``after_forward=True`` the request is forwarded at once (the store applies it now) and only
    the answer is held back. The request is forwarded even when the client gives up waiting meanwhile,
    as a slow store would still apply it: use :meth:`FaultProxy.settle` before looking at the data.
    When the proxy stops during the wait, the connection is closed without an answer.
    """

    def __init__(self, seconds: float, *, after_forward: bool = False) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self.seconds = seconds
        self.after_forward = after_forward

    def apply(self, exchange: Exchange) -> None:
        answer = exchange.forward() if self.after_forward else None
        if not exchange.sleep(self.seconds):
            exchange.hang_up()
            return
        exchange.send_answer(answer if answer is not None else exchange.forward())


_NO_JSON: Final = object()


class Answer(Fault):
    """Answer ``status`` with ``body`` (or ``json``, serialised) without contacting the upstream.

    ``Answer(200, json={})`` is a success whose body lacks everything a client expects. With
    ``forward=True`` the request is forwarded first (the store applies it) and its answer replaced:
    e.g. ``Answer(504, forward=True)`` is a gateway that timed out on a write that nonetheless happened.
    """

    def __init__(
        self,
        status: int = 200,
        body: bytes | str = b"",
        *,
        json: object = _NO_JSON,
        headers: Mapping[str, str] | None = None,
        forward: bool = False,
    ) -> None:
        if json is not _NO_JSON and body:
            raise ValueError("give body or json, not both")
        self.status = status
        self.headers = dict(headers or {})
        if json is not _NO_JSON:
            self.body = jsonlib.dumps(json).encode()
            self.headers.setdefault("Content-Type", "application/json")
        else:
            self.body = body.encode() if isinstance(body, str) else body
        self.forward = forward

    def answer(self) -> UpstreamAnswer:
        """The answer this fault sends."""
        return UpstreamAnswer(self.status, list(self.headers.items()), self.body)

    def apply(self, exchange: Exchange) -> None:
        if self.forward:
            exchange.forward()
        exchange.send_answer(self.answer())

    def __repr__(self) -> str:
        return f"{self.name}({self.status}, body={self.body!r}, forward={self.forward})"


class Status(Answer):
    """An error status (401, 429, 500, 503, 504, ...) in place of the upstream's answer.

    Same arguments as :class:`Answer`; the default body is a short JSON description of the status.
    """

    def __init__(
        self,
        status: int,
        body: bytes | str | None = None,
        *,
        json: object = _NO_JSON,
        headers: Mapping[str, str] | None = None,
        forward: bool = False,
    ) -> None:
        if body is None and json is _NO_JSON:
            json = {"description": f"injected by fault proxy: {status} {_reason(status)}", "code": status}
        super().__init__(status, body or b"", json=json, headers=headers, forward=forward)


class Garble(Answer):
    """A ``200`` whose body is not what the upstream would say: by default not JSON at all, though
    labelled ``application/json``. ``forward=True`` lets the store apply the request first."""

    DEFAULT_BODY: Final = b'<html><body>502 Bad Gateway</body></html>{"data": '

    def __init__(
        self,
        body: bytes | str = DEFAULT_BODY,
        *,
        status: int = 200,
        content_type: str = "application/json",
        forward: bool = False,
    ) -> None:
        super().__init__(status, body, headers={"Content-Type": content_type}, forward=forward)


class Cut(Fault):
    """Close the client connection after ``after_bytes`` bytes of the answer (0: before any byte).

    Without ``forward`` the upstream never sees the request and the bytes come from a canned
    ``200 application/json`` answer (:attr:`CANNED`, so a cut can land in the status line, the headers or
    the body); with ``forward=True`` the store applies the request and its real answer is cut
    (:class:`DropAnswer`). ``reset=True`` closes with a TCP reset instead of an orderly close.

    What ``requests`` raises: ``ConnectionError`` for a cut before the end of the headers;
    ``ChunkedEncodingError`` (not a ``ConnectionError``) for a cut inside the body.
    """

    CANNED: Final = UpstreamAnswer(
        200,
        [("Content-Type", "application/json")],
        b'{"status": {"ok": 1}, "data": {"note": "an answer the client never fully gets"}}',
    )

    def __init__(self, after_bytes: int = 0, *, forward: bool = False, reset: bool = False) -> None:
        if after_bytes < 0:
            raise ValueError("after_bytes must be >= 0")
        self.after_bytes = after_bytes
        self.forward = forward
        self.reset = reset

    def apply(self, exchange: Exchange) -> None:
        answer = exchange.forward() if self.forward else self.CANNED
        wire = answer.to_bytes(request_method=exchange.record.method)
        if self.after_bytes:
            exchange.send_raw(wire[: self.after_bytes])
        exchange.hang_up(reset=self.reset)


class DropAnswer(Cut):
    """The lost write answer: forward (the store applies the request), read the upstream's answer,
    then close the client connection without sending it (or after ``after_bytes`` of it)."""

    def __init__(self, after_bytes: int = 0, *, reset: bool = False) -> None:
        super().__init__(after_bytes, forward=True, reset=reset)


class Stall(Fault):
    """Read the request and never answer; the client's read timeout has to fire.

    The connection is closed once the client hangs up or the proxy stops. ``forward=True`` lets the
    store apply the request first (a write whose answer never comes).
    """

    def __init__(self, *, forward: bool = False) -> None:
        self.forward = forward

    def apply(self, exchange: Exchange) -> None:
        if self.forward:
            exchange.forward()
        exchange.wait_for_client_hang_up()
        exchange.hang_up()


# --------------------------------------------------------------------------------------------------
# One request in flight
# --------------------------------------------------------------------------------------------------


class Exchange:
    """One request on its way through the proxy: what a :class:`Fault` works with."""

    def __init__(
        self, record: RequestRecord, client: socket.socket, link: _UpstreamLink, keep_alive: bool
    ) -> None:
        self.record = record
        self._client = client
        self._link = link
        self._keep_alive = keep_alive
        self.closed = False
        """The client connection was closed: no further requests are read from it."""

    @property
    def keep_alive(self) -> bool:
        """Whether the connection stays open for another request after this one."""
        return self._keep_alive and not self.closed

    def forward(self) -> UpstreamAnswer:
        """Send the request to the upstream and return its answer (a 502 if it could not be had)."""
        return self._link.forward(self.record)

    def send_answer(self, answer: UpstreamAnswer) -> None:
        """Send a whole answer to the client (and close if the connection is not kept alive)."""
        # Recorded first: once the bytes are out, the client (and the test) may look at the record.
        self.record.status = answer.status
        try:
            self.send_raw(answer.to_bytes(request_method=self.record.method, keep_alive=self._keep_alive))
        except OSError:
            self.record.status = None
            raise
        if not self._keep_alive:
            self.hang_up()

    def send_raw(self, data: bytes) -> None:
        """Send bytes to the client as they are."""
        if data:
            self._client.sendall(data)

    def hang_up(self, *, reset: bool = False) -> None:
        """Close the client connection: an orderly close (FIN), or a TCP reset (RST) with ``reset``."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            if reset:
                self._client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self._client.shutdown(socket.SHUT_RDWR)
        self._client.close()

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; ``False`` if the proxy began stopping meanwhile."""
        return not self._link.stopping.wait(seconds)

    def wait_for_client_hang_up(self) -> None:
        """Block until the client closes its end of the connection or the proxy stops."""
        while not self._link.stopping.is_set():
            try:
                readable, _, _ = select.select([self._client], [], [], _POLL_S)
                if readable:
                    if not self._client.recv(1, socket.MSG_PEEK):
                        return
                    self._link.stopping.wait(_POLL_S)  # a pipelined request waits; do not spin
            except (OSError, ValueError):  # closed by stop() in the meantime
                return


class _UpstreamLink:
    """The keep-alive connection to the upstream that serves one client connection."""

    def __init__(self, proxy: FaultProxy) -> None:
        self._proxy = proxy
        self.stopping = proxy._stopping
        self._conn: _LoopbackHTTPConnection | None = None
        self.sockets: list[socket.socket] = []
        """Every upstream socket opened for this client connection, untracked when it ends."""

    def forward(self, record: RequestRecord) -> UpstreamAnswer:
        if self.stopping.is_set():
            record.upstream_error = "proxy stopping"
            return _bad_gateway("the proxy is stopping")
        conn = self._connection()
        try:
            conn.putrequest(record.method, record.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", f"{LOOPBACK}:{self._proxy.upstream_port}")
            for name, value in record.headers:
                if name.lower() not in _HOP_BY_HOP | {"host", "content-length"}:
                    conn.putheader(name, value)
            if record.body or record.method.upper() in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(record.body)))
            conn.endheaders(record.body or None)
            record.forwarded = True
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            record.upstream_error = f"{type(error).__name__}: {error}"
            return _bad_gateway(record.upstream_error)
        record.upstream_status = response.status
        if response.will_close:
            self.close()
        return UpstreamAnswer(response.status, response.getheaders(), body, response.reason)

    def _connection(self) -> _LoopbackHTTPConnection:
        if self._conn is not None and self._conn.sock is not None and _peer_closed(self._conn.sock):
            self.close()  # the upstream closed an idle keep-alive connection: open a new one
        if self._conn is None:
            self._conn = _LoopbackHTTPConnection(self._proxy, self.sockets)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def release(self) -> None:
        """Close the upstream connection and stop tracking its sockets (the client connection ended)."""
        self.close()
        for sock in self.sockets:
            self._proxy._untrack(sock)
        self.sockets.clear()


class _LoopbackHTTPConnection(http.client.HTTPConnection):
    """An upstream connection whose connect() and socket ``stop()`` can always interrupt."""

    def __init__(self, proxy: FaultProxy, opened: list[socket.socket]) -> None:
        super().__init__(LOOPBACK, proxy.upstream_port, timeout=proxy.upstream_timeout)
        self._proxy = proxy
        self._opened = opened

    def connect(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Tracked until the client connection ends (not when http.client closes it: a response may
        # still be reading from it), so stop() can always shut it down.
        self._opened.append(sock)
        self._proxy._track(sock)
        try:
            _interruptible_connect(sock, self.port, self._proxy.upstream_timeout, self._proxy._stopping)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self._proxy.upstream_timeout)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _interruptible_connect(sock: socket.socket, port: int, timeout: float, stop: threading.Event) -> None:
    """connect() to the loopback port in small steps, giving up when ``stop`` is set."""
    sock.setblocking(False)
    code = sock.connect_ex((LOOPBACK, port))
    if code not in (0, errno.EINPROGRESS, errno.EAGAIN):
        raise ConnectionRefusedError(code, f"connect to {LOOPBACK}:{port}: {errno.errorcode.get(code)}")
    deadline = time.monotonic() + timeout
    while code != 0:
        if stop.is_set():
            raise ConnectionAbortedError("the proxy is stopping")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"connect to {LOOPBACK}:{port} timed out")
        _, writable, _ = select.select([], [sock], [], _POLL_S)
        if writable:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                raise ConnectionRefusedError(
                    code, f"connect to {LOOPBACK}:{port}: {errno.errorcode.get(code)}"
                )
            break
    sock.setblocking(True)


def _peer_closed(sock: socket.socket) -> bool:
    """Whether an idle connection was closed (or reset) by its peer."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and not sock.recv(1, socket.MSG_PEEK)
    except (OSError, ValueError):
        return True


def _bad_gateway(reason: str) -> UpstreamAnswer:
    body = jsonlib.dumps({"description": f"fault proxy: upstream unavailable: {reason}", "code": 502})
    return UpstreamAnswer(502, [("Content-Type", "application/json")], body.encode())


# --------------------------------------------------------------------------------------------------
# Reading requests from the client
# --------------------------------------------------------------------------------------------------


class _BadRequest(Exception):
    pass


@dataclass
class _Incoming:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        wanted = name.lower()
        return ", ".join(value for key, value in self.headers if key.lower() == wanted)

    @property
    def keep_alive(self) -> bool:
        tokens = {token.strip().lower() for token in self.header("Connection").split(",")}
        if self.version == "HTTP/1.1":
            return "close" not in tokens
        return "keep-alive" in tokens


def _read_line(rfile: BinaryIO) -> bytes:
    line = rfile.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise _BadRequest("line too long")
    return line


def _read_request(rfile: BinaryIO, client: socket.socket) -> _Incoming | None:
    """The next request on the connection; ``None`` when the client closed it between requests."""
    line = _read_line(rfile)
    while line in (b"\r\n", b"\n"):  # a stray empty line before a request is allowed
        line = _read_line(rfile)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(f"bad request line {line!r}")
    method, target, version = parts
    headers: list[tuple[str, str]] = []
    while True:
        raw = _read_line(rfile)
        if not raw:
            raise _BadRequest("connection closed inside the headers")
        if raw in (b"\r\n", b"\n"):
            break
        name, colon, value = raw.decode("latin-1").partition(":")
        if not colon or not name.strip() or len(headers) >= _MAX_HEADERS:
            raise _BadRequest(f"bad header line {raw!r}")
        headers.append((name.strip(), value.strip()))
    incoming = _Incoming(method, target, version, headers, b"")
    if incoming.header("Expect").lower() == "100-continue":
        client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in incoming.header("Transfer-Encoding").lower():
        incoming.body = _read_chunked(rfile)
    else:
        length_text = incoming.header("Content-Length") or "0"
        if not length_text.isdigit() or int(length_text) > _MAX_BODY:
            raise _BadRequest(f"bad Content-Length {length_text!r}")
        incoming.body = rfile.read(int(length_text))
        if len(incoming.body) != int(length_text):
            raise _BadRequest("connection closed inside the body")
    return incoming


def _read_chunked(rfile: BinaryIO) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_text = _read_line(rfile).split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _BadRequest(f"bad chunk size {size_text!r}") from None
        if size == 0:
            while _read_line(rfile).strip():  # trailers, up to the blank line
                pass
            return b"".join(chunks)
        total += size
        if total > _MAX_BODY:
            raise _BadRequest("body too large")
        chunk = rfile.read(size)
        if len(chunk) != size:
            raise _BadRequest("connection closed inside a chunk")
        chunks.append(chunk)
        _read_line(rfile)


# --------------------------------------------------------------------------------------------------
# The proxy
# --------------------------------------------------------------------------------------------------


class FaultProxy:
    """A threaded HTTP/1.1 proxy on ``127.0.0.1:<free port>`` in front of ``upstream_url``.

    ``upstream_url`` is ``http://127.0.0.1:<port>`` or ``http://localhost:<port>`` without a path;
    clients use :attr:`url` in its place, with the same paths. ``upstream_timeout`` bounds connecting
    to and waiting for the upstream. Start it with :meth:`start` or ``with``.
    """

    def __init__(self, upstream_url: str, *, upstream_timeout: float = 30.0) -> None:
        parts = urlsplit(upstream_url)
        if parts.scheme != "http" or parts.hostname not in (LOOPBACK, "localhost") or parts.port is None:
            raise ValueError(f"upstream must be http://127.0.0.1:<port>, not {upstream_url!r}")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"upstream URL must have no path (clients send the full path): {upstream_url!r}")
        self.upstream_url = f"http://{LOOPBACK}:{parts.port}"
        self.upstream_port: int = parts.port
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._rules: list[Rule] = []
        self._records: list[RequestRecord] = []
        self._connections = 0
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._errors: list[Exception] = []
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._port: int | None = None
        self._state = "new"

    # --- lifecycle ---

    @property
    def port(self) -> int:
        """The port the proxy listens on (once started)."""
        if self._port is None:
            raise RuntimeError("the proxy is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, to use in place of the upstream URL (once started)."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> FaultProxy:
        """Listen on a free loopback port and accept connections on a background thread."""
        if self._state != "new":
            raise RuntimeError(f"a proxy starts once (this one is {self._state})")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((LOOPBACK, 0))
            listener.listen(64)
            listener.settimeout(_POLL_S * 5)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self._port = int(listener.getsockname()[1])
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"fault-proxy-{self._port}-accept", daemon=True
        )
        self._state = "running"
        self._acceptor.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop accepting, close every connection (stalled and delayed requests end without an
        answer) and wait up to ``timeout`` for every thread. Idempotent.

        Raises ``RuntimeError`` if a thread is still running after that (a fault that ignores the stop
        flag), or if a fault raised something other than a socket error while applied (that request's
        connection was closed without an answer), so a broken fault cannot pass for a cut connection.
        """
        if self._state != "running":
            self._state = "stopped"
            return
        self._state = "stopped"
        self._stopping.set()
        deadline = time.monotonic() + timeout
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
        if self._acceptor is not None:
            self._acceptor.join(timeout)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [thread.name for thread in threads if thread.is_alive()]
        if self._acceptor is not None and self._acceptor.is_alive():
            alive.append(self._acceptor.name)
        if alive:
            raise RuntimeError(f"fault proxy threads still running after stop(): {alive}")
        if self._errors:
            raise RuntimeError(f"faults raised {len(self._errors)} error(s): {self._errors!r}") from (
                self._errors[0]
            )

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- the plan ---

    def add_fault(self, fault: Fault, match: Match | None = None, *, times: int | None = None) -> Rule:
        """Append a rule: ``fault`` for requests selected by ``match`` (all when ``None``), for the
        next ``times`` of them or, with ``times=None``, for every one. Earlier rules come first."""
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for always)")
        rule = Rule(fault, match or Match(), times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule: from now on requests pass through unchanged."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[Rule]:
        """A copy of the current rules, in the order they are consulted."""
        with self._lock:
            return list(self._rules)

    # --- accounting ---

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request read so far, in arrival order (a copy of the list; the records are live)."""
        with self._lock:
            return list(self._records)

    @property
    def connections(self) -> int:
        """How many TCP connections the proxy has accepted."""
        with self._lock:
            return self._connections

    def count(self, match: Match | None = None) -> int:
        """How many requests (selected by ``match``, all when ``None``) reached the proxy."""
        wanted = match or Match()
        return sum(1 for record in self.requests if wanted.matches_record(record))

    def clear_records(self) -> None:
        """Forget the requests and connections counted so far (e.g. after a test's setup calls)."""
        with self._lock:
            self._records.clear()
            self._connections = 0

    def wait_for(self, n: int, match: Match | None = None, timeout: float = 5.0) -> None:
        """Block until at least ``n`` requests selected by ``match`` arrived; ``TimeoutError`` else."""
        deadline = time.monotonic() + timeout
        while self.count(match) < n:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.count(match)} of {n} requests arrived within {timeout} s")
            time.sleep(_POLL_S)

    def settle(self, timeout: float = 5.0) -> None:
        """Block until every request read so far is finished (forwarded and answered, cut, or given
        up), e.g. before checking the store after a client timed out on a delayed request."""
        deadline = time.monotonic() + timeout
        while any(record.finished is None for record in self.requests):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"requests still in progress after {timeout} s")
            time.sleep(_POLL_S)

    # --- internals ---

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
        if self._stopping.is_set():  # stop() may have taken its snapshot of sockets already
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._connections += 1
                number = self._connections
                thread = threading.Thread(
                    target=self._serve_connection,
                    args=(client, number),
                    name=f"fault-proxy-{self._port}-conn{number}",
                    daemon=True,
                )
                self._threads.add(thread)
            self._track(client)
            thread.start()

    def _serve_connection(self, client: socket.socket, number: int) -> None:
        link = _UpstreamLink(self)
        rfile = client.makefile("rb")
        try:
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not self._stopping.is_set():
                try:
                    incoming = _read_request(rfile, client)
                except _BadRequest as error:
                    body = f"fault proxy: bad request: {error}".encode()
                    bad = UpstreamAnswer(400, [("Content-Type", "text/plain")], body)
                    client.sendall(bad.to_bytes(keep_alive=False))
                    return
                if incoming is None:
                    return
                if not self._handle(incoming, client, link, number):
                    return
        except OSError:
            return  # the client went away, or stop() shut the socket down
        finally:
            link.release()
            rfile.close()
            self._untrack(client)
            client.close()
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _handle(self, incoming: _Incoming, client: socket.socket, link: _UpstreamLink, number: int) -> bool:
        """Apply the deciding rule to one request; whether the connection stays open."""
        with self._lock:
            rule = next(
                (
                    rule
                    for rule in self._rules
                    if not rule.exhausted
                    and rule.match.matches(incoming.method, incoming.target, incoming.body)
                ),
                None,
            )
            if rule is not None:
                rule.used += 1
            record = RequestRecord(
                index=len(self._records),
                connection=number,
                method=incoming.method,
                path=incoming.target,
                headers=incoming.headers,
                body=incoming.body,
                fault=rule.fault.name if rule is not None else None,
                started=time.monotonic(),
            )
            self._records.append(record)
        exchange = Exchange(record, client, link, incoming.keep_alive)
        try:
            (rule.fault if rule is not None else _PASS_THROUGH).apply(exchange)
        except OSError:
            exchange.closed = True  # the client went away, or stop() shut the socket down
        except Exception as error:  # a bug in a fault: hang up, and report it from stop()
            with self._lock:
                self._errors.append(error)
            exchange.hang_up()
        finally:
            record.finished = time.monotonic()
        return exchange.keep_alive and not self._stopping.is_set()

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not started"
        return f"FaultProxy({where} -> {self.upstream_url}, {self._state}, {len(self.rules)} rules)"


# --------------------------------------------------------------------------------------------------
# Failures before any proxy could accept: refused and hanging connects
# --------------------------------------------------------------------------------------------------


def refused_url(attempts: int = 5) -> str:
    """The URL of a loopback port where nothing listens, so connecting is refused at once.

    Binds a socket to port 0, reads the port, closes it, and checks that a connect is refused. The
    port could in principle be taken by someone else later; with the kernel's ephemeral port rotation
    that is very unlikely within one test.
    """
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((LOOPBACK, 0))
            port = int(probe.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as check:
            check.settimeout(1.0)
            try:
                check.connect((LOOPBACK, port))
            except ConnectionRefusedError:
                return f"http://{LOOPBACK}:{port}"
            except OSError:
                continue
    raise RuntimeError("found no loopback port that refuses connections")


@contextlib.contextmanager
def hanging_url(max_fillers: int = 16, probe_timeout: float = 0.2) -> Iterator[str]:
    """Yield the URL of a loopback listener where a new TCP connect hangs (until the client's connect
    timeout fires or the context exits; after exit, connects are refused).

    The trick: the listener is created with ``listen(0)`` and never calls ``accept()``. Raw connects
    ("fillers") complete until its accept queue is full; on Linux that is after one (the queue holds
    backlog + 1). From then on the kernel silently drops each new SYN (with ``tcp_abort_on_overflow=0``,
    the default, and SYN cookies do not apply to a full accept queue), so the client keeps
    retransmitting its SYN and ``connect()`` blocks: what a firewall black-holing the store looks
    like. The helper connects fillers with a ``probe_timeout`` until one times out, so it finds out
    rather than assumes when the queue is full, and raises ``RuntimeError`` if ``max_fillers`` connects
    all complete (a kernel that does not behave this way).
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind((LOOPBACK, 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(max_fillers):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.settimeout(probe_timeout)
            try:
                filler.connect((LOOPBACK, port))
            except TimeoutError:
                filler.close()
                break
            fillers.append(filler)
        else:
            raise RuntimeError(
                f"{max_fillers} connects to a listen(0) socket completed: cannot make one hang"
            )
        yield f"http://{LOOPBACK}:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
