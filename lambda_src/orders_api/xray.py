"""X-Ray tracing without the X-Ray SDK: a Powertools tracing provider that sends segment documents
to the X-Ray daemon Lambda runs beside the function.

Powertools' ``Tracer`` (``capture_lambda_handler``, ``capture_method``, ``put_annotation``) drives a
*provider*; by default that is the AWS X-Ray SDK. This module is a second provider, written here because:

- the X-Ray SDKs are in maintenance mode since 2026-02-25 and lose support on 2027-02-25, while the
  X-Ray service, its daemon protocol and its segment document format stay;
- importing the SDK (with the botocore it needs) was over half of this function's cold start
  (``make bench``), and the function would carry botocore for nothing else;
- OpenTelemetry, which AWS recommends instead, needs its SDK, an exporter and a collector layer in
  the function: more to import and to run than the few hundred lines below. Powertools' own
  OpenTelemetry provider is not released yet; when it is, swapping providers is one line in
  ``observability.py``.

How it works. Lambda records the function's segment itself and gives each invocation a trace header
(``_X_AMZN_TRACE_ID``: ``Root=…;Parent=…;Sampled=…``). A subsegment opened directly under Lambda's
segment (``## lambda_handler``) becomes an *independent subsegment* document naming the trace and its
parent; the subsegments opened inside it are embedded in it as they close, and the whole tree is sent
as one UDP datagram to ``AWS_XRAY_DAEMON_ADDRESS`` when the outer one closes, in the documented daemon
format (a JSON header line, then the document): one datagram per invocation. Nothing is sent when
the header says ``Sampled=0`` or is missing: Lambda's sampling decision is the only one. Sending never
blocks and never fails a request; a tree too large for a datagram loses its metadata and stacks
first, and is then sent one subsegment per datagram.

What a trace holds: ``## lambda_handler`` with the ``ColdStart`` and ``Service`` annotations (from
Powertools), ``## orders_api.routes.<route>`` for the route, and one ``remote`` subsegment per store
call, named after the store's host, with method, URL (without its query), status, and the ``error``
(4xx), ``throttle`` (429) and ``fault`` (5xx, no answer) flags. Exceptions leaving a subsegment are
recorded with their type and stack; the message only for the service's own errors, whose texts never
hold a secret (a library's message can quote a header).
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import time
import traceback
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from orders_api.errors import OrdersError

TRACE_HEADER_ENV = "_X_AMZN_TRACE_ID"
DAEMON_ADDRESS_ENV = "AWS_XRAY_DAEMON_ADDRESS"
DEFAULT_DAEMON_ADDRESS = ("127.0.0.1", 2000)
# The daemon's protocol: this line, then one JSON segment document, in one datagram.
DAEMON_HEADER = b'{"format": "json", "version": 1}\n'
# A UDP datagram over IPv4 carries at most 65,507 bytes; a little margin below that.
MAX_DATAGRAM_BYTES = 65_000
MAX_NAME = 200
MAX_ANNOTATION_TEXT = 1000
MAX_STACK_FRAMES = 30
_NAME_UNSAFE = re.compile(r"[^\w .:/%&#=+\-@]")
_ANNOTATION_KEY = re.compile(r"^[A-Za-z0-9_]{1,500}$")
_TRACE_ROOT = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
_ENTITY_ID = re.compile(r"^[0-9a-f]{16}$")


class TraceContext(NamedTuple):
    """The part of Lambda's trace header a subsegment needs: its trace and the segment it hangs from."""

    root: str
    parent_id: str
    sampled: bool


def parse_trace_header(value: str | None) -> TraceContext | None:
    """``Root=1-…;Parent=…;Sampled=1`` as a TraceContext; None when it names no usable trace."""
    if not value:
        return None
    fields: dict[str, str] = {}
    for part in value.split(";"):
        key, _, field_value = part.strip().partition("=")
        fields[key] = field_value.strip()
    root, parent = fields.get("Root", ""), fields.get("Parent", "")
    if not _TRACE_ROOT.match(root) or not _ENTITY_ID.match(parent):
        return None
    return TraceContext(root, parent, fields.get("Sampled") == "1")


def daemon_address(value: str | None) -> tuple[str, int]:
    """Where to send: ``host:port``, or the ``udp:host:port`` of ``tcp:… udp:…``; the default when unset."""
    if not value:
        return DEFAULT_DAEMON_ADDRESS
    candidates = value.split()
    chosen = next((c for c in candidates if c.startswith("udp:")), candidates[0]).removeprefix("udp:")
    host, _, port = chosen.rpartition(":")
    try:
        return (host or DEFAULT_DAEMON_ADDRESS[0], int(port))
    except ValueError:
        return DEFAULT_DAEMON_ADDRESS


def _new_id() -> str:
    return os.urandom(8).hex()


def _safe_name(name: str) -> str:
    return _NAME_UNSAFE.sub("_", name)[:MAX_NAME] or "anonymous"


def _jsonable(value: Any) -> Any:
    """What a metadata value becomes in the document: JSON as it is, an exception as its type only."""
    if isinstance(value, BaseException):
        return _exception_summary(value)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return f"<{type(value).__name__}>"
    return value


def _exception_summary(error: BaseException) -> dict[str, str]:
    summary = {"type": type(error).__name__}
    if isinstance(error, OrdersError):
        summary["message"] = str(error)
    return summary


class Subsegment(BaseSegment):
    """One X-Ray subsegment: sent when it closes if it is the outermost, else embedded in its parent."""

    def __init__(self, name: str, trace_id: str, parent_id: str, namespace: str | None = None) -> None:
        self.name = _safe_name(name)
        self.id = _new_id()
        self.trace_id = trace_id
        self.parent_id = parent_id
        self.namespace = namespace
        self.start_time = time.time()
        self.end_time: float | None = None
        self.annotations: dict[str, str | int | float | bool] = {}
        self.metadata: dict[str, dict[str, Any]] = {}
        self.http: dict[str, dict[str, Any]] = {}
        self.error = self.fault = self.throttle = False
        self.exceptions: list[dict[str, Any]] = []
        self.children: list[Subsegment] = []

    def close(self, end_time: int | None = None) -> None:
        if self.end_time is None:
            self.end_time = float(end_time) if end_time is not None else time.time()

    def add_subsegment(self, subsegment: Any) -> None:
        if isinstance(subsegment, Subsegment):
            self.children.append(subsegment)

    def remove_subsegment(self, subsegment: Any) -> None:
        if subsegment in self.children:
            self.children.remove(subsegment)

    def put_annotation(self, key: str, value: Any) -> None:
        if not _ANNOTATION_KEY.match(key) or not isinstance(value, (str, int, float, bool)):
            return  # X-Ray would refuse the whole document for one bad annotation
        if isinstance(value, float) and not math.isfinite(value):
            return
        self.annotations[key] = value[:MAX_ANNOTATION_TEXT] if isinstance(value, str) else value

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata.setdefault(namespace, {})[key] = _jsonable(value)

    def add_exception(self, exception: BaseException, stack: Any = None, remote: bool = False) -> None:
        if any(recorded["_error"] is exception for recorded in self.exceptions):
            return
        status = getattr(exception, "status_code", None)
        if isinstance(exception, OrdersError) and not isinstance(status, int):
            self.error = True  # a refusal the service answers with a 4xx; failures carry a 5xx status_code
        else:
            self.fault = True
        frames = traceback.extract_tb(exception.__traceback__)[-MAX_STACK_FRAMES:]
        self.exceptions.append(
            {
                "_error": exception,
                "id": _new_id(),
                **_exception_summary(exception),
                "remote": remote,
                "stack": [{"path": f.filename, "line": f.lineno or 0, "label": f.name} for f in frames],
            }
        )

    def record_answer(self, status: int, content_length: int) -> None:
        """The HTTP status and size of a remote call's answer, with X-Ray's flags for the status."""
        self.http["response"] = {"status": status, "content_length": content_length}
        if status == 429:
            self.throttle = self.error = True
        elif 400 <= status < 500:
            self.error = True
        elif status >= 500:
            self.fault = True

    def document(self, *, lean: bool = False, embedded: bool = True) -> dict[str, Any]:
        """The segment document of this subsegment, with its closed children embedded (``embedded``)
        or left out; ``lean`` leaves out metadata and stacks."""
        document: dict[str, Any] = {
            "type": "subsegment",
            "name": self.name,
            "id": self.id,
            "trace_id": self.trace_id,
            "parent_id": self.parent_id,
            "start_time": self.start_time,
            "end_time": self.end_time if self.end_time is not None else time.time(),
        }
        document.update(self._fields(lean))
        if embedded and self.children:
            document["subsegments"] = [child._embedded(lean) for child in self.children]
        return document

    def independent_documents(self, *, lean: bool = False) -> Iterator[dict[str, Any]]:
        """This subsegment and each one below it as documents of their own, each naming its parent."""
        yield self.document(lean=lean, embedded=False)
        for child in self.children:
            yield from child.independent_documents(lean=lean)

    def _embedded(self, lean: bool) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "id": self.id,
            "start_time": self.start_time,
            "end_time": self.end_time if self.end_time is not None else time.time(),
        }
        document.update(self._fields(lean))
        if self.children:
            document["subsegments"] = [child._embedded(lean) for child in self.children]
        return document

    def _fields(self, lean: bool) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if self.namespace:
            fields["namespace"] = self.namespace
        for flag in ("error", "fault", "throttle"):
            if getattr(self, flag):
                fields[flag] = True
        if self.http:
            fields["http"] = self.http
        if self.annotations:
            fields["annotations"] = self.annotations
        if self.metadata and not lean:
            fields["metadata"] = self.metadata
        if self.exceptions:
            exceptions = [
                {k: v for k, v in e.items() if k != "_error" and not (lean and k == "stack")}
                for e in self.exceptions
            ]
            fields["cause"] = {"working_directory": os.getcwd(), "exceptions": exceptions}
        return fields


class _NotRecorded(BaseSegment):
    """The subsegment of an invocation that is not sampled: it takes everything and records nothing."""

    def close(self, end_time: int | None = None) -> None:
        """Nothing to close."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Nothing to record."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Nothing to record."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing to record."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing to record."""

    def add_exception(self, exception: BaseException, stack: Any = None, remote: bool = False) -> None:
        """Nothing to record."""

    def record_answer(self, status: int, content_length: int) -> None:
        """Nothing to record."""


NOT_RECORDED = _NotRecorded()


class DaemonSender:
    """Sends segment documents to the X-Ray daemon over UDP; never blocks, never raises."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self._socket: socket.socket | None = None

    def send(self, segment: Subsegment) -> None:
        """``segment`` with everything below it: one datagram, or one per subsegment when too large."""
        data = self._encode(segment.document())
        if data is None:
            data = self._encode(segment.document(lean=True))
        if data is not None:
            self._send(data)
            return
        for document in segment.independent_documents(lean=True):
            data = self._encode(document)
            if data is not None:
                self._send(data)

    def _send(self, data: bytes) -> None:
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(data, self.address)
        except OSError:
            pass  # a trace is never worth a failed request

    @staticmethod
    def _encode(document: dict[str, Any]) -> bytes | None:
        """The datagram for ``document``, or None when it would not fit in one or not be valid JSON
        (NaN or infinity somewhere): never sent broken."""
        try:
            text = json.dumps(document, separators=(",", ":"), default=str, allow_nan=False)
        except ValueError:
            return None
        data = DAEMON_HEADER + text.encode()
        return data if len(data) <= MAX_DATAGRAM_BYTES else None


class XRayDaemonTracing(BaseProvider):
    """A Powertools tracing provider that writes X-Ray subsegments to the Lambda X-Ray daemon.

    ``Tracer(service=..., provider=XRayDaemonTracing())``; ``remote_call`` traces a call to another
    service (here: the store).
    """

    def __init__(self, env: Mapping[str, str] = os.environ, sender: DaemonSender | None = None) -> None:
        self._env = env
        self.sender = sender or DaemonSender(daemon_address(env.get(DAEMON_ADDRESS_ENV)))
        self._current: ContextVar[Subsegment | None] = ContextVar("xray_subsegment", default=None)
        self._header: tuple[str | None, TraceContext | None] = (None, None)

    def trace(self) -> TraceContext | None:
        """The sampled trace of the current invocation, or None (not sampled, or no trace header)."""
        value = self._env.get(TRACE_HEADER_ENV)
        header = self._header  # one read: another thread may replace it
        if value != header[0]:
            header = (value, parse_trace_header(value))
            self._header = header
        context = header[1]
        return context if context is not None and context.sampled else None

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        with self._open(name or "anonymous", kwargs.get("namespace")) as segment:
            yield segment

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        with self._open(name or "anonymous", kwargs.get("namespace")) as segment:
            yield segment

    @contextmanager
    def remote_call(self, method: str, url: str) -> Iterator[Subsegment | _NotRecorded]:
        """A ``remote`` subsegment for one HTTP call; ``record_answer`` on it once the status is known."""
        parts = urlsplit(url)
        with self._open(parts.hostname or "remote", "remote", remote=True) as segment:
            if isinstance(segment, Subsegment):
                # No query string (it could carry a secret) and no user info.
                clean = (
                    f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
                )
                segment.http["request"] = {"method": method, "url": clean[:250]}
            yield segment

    @contextmanager
    def _open(self, name: str, namespace: str | None, remote: bool = False) -> Iterator[Any]:
        trace = self.trace()
        if trace is None:
            yield NOT_RECORDED
            return
        parent = self._current.get()
        parent_id = parent.id if parent is not None and parent.trace_id == trace.root else trace.parent_id
        segment = Subsegment(name, trace.root, parent_id, namespace)
        token = self._current.set(segment)
        try:
            yield segment
        except BaseException as error:
            segment.add_exception(error, remote=remote)
            raise
        finally:
            self._current.reset(token)
            segment.close()
            if parent is not None and parent_id == parent.id:
                parent.add_subsegment(segment)
            else:
                self.sender.send(segment)

    def put_annotation(self, key: str, value: Any) -> None:
        segment = self._current.get()
        if segment is not None:
            segment.put_annotation(key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        segment = self._current.get()
        if segment is not None:
            segment.put_metadata(key, value, namespace)

    def patch(self, modules: Any) -> None:
        """Libraries are not patched: the store's calls are traced where they are made (``remote_call``)."""

    def patch_all(self) -> None:
        """Libraries are not patched: the store's calls are traced where they are made (``remote_call``)."""
