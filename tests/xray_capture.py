"""Captures what the function's X-Ray provider sends, as the X-Ray daemon would receive it, and checks
each document against the published X-Ray segment document schema (v1.0.0, vendored from the AWS
X-Ray developer guide's download in ``tests/unit/schemas/``)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema

from orders_api.xray import DAEMON_HEADER, DaemonSender, XRayDaemonTracing

SCHEMA = json.loads(
    (Path(__file__).parent / "unit" / "schemas" / "xray-segmentdocument-schema-v1.0.0.json").read_text()
)
TRACE_ROOT = "1-67a1b2c3-0123456789abcdef01234567"
LAMBDA_SEGMENT = "53995c3f42cd8ad8"
SAMPLED = f"Root={TRACE_ROOT};Parent={LAMBDA_SEGMENT};Sampled=1"
NOT_SAMPLED = f"Root={TRACE_ROOT};Parent={LAMBDA_SEGMENT};Sampled=0"


class Daemon:
    """A UDP listener on a free loopback port, standing in for the X-Ray daemon."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.05)
        self.address: tuple[str, int] = self.socket.getsockname()

    def datagrams(self) -> list[bytes]:
        """Everything received so far."""
        received = []
        while True:
            try:
                received.append(self.socket.recv(70_000))
            except TimeoutError:
                return received

    def documents(self) -> list[dict[str, Any]]:
        """Every subsegment received so far, each datagram checked against the protocol and the schema.

        Subsegments embedded in another are listed too, as if sent on their own: with the ``trace_id``,
        ``parent_id`` and ``type`` of their place in the tree, and without ``subsegments``.
        """
        documents: list[dict[str, Any]] = []
        for datagram in self.datagrams():
            assert datagram.startswith(DAEMON_HEADER), datagram[:60]
            document = json.loads(datagram[len(DAEMON_HEADER) :])
            jsonschema.validate(document, SCHEMA)
            documents.extend(_flattened(document))
        return documents


def _flattened(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    children = document.pop("subsegments", [])
    yield document
    for child in children:
        child.update(type="subsegment", trace_id=document["trace_id"], parent_id=document["id"])
        yield from _flattened(child)


@contextmanager
def daemon_and_provider(trace_header: str | None = SAMPLED) -> Iterator[tuple[Daemon, XRayDaemonTracing]]:
    """A listening daemon and a provider that sends to it, in an invocation with ``trace_header``."""
    daemon = Daemon()
    env = {"_X_AMZN_TRACE_ID": trace_header} if trace_header is not None else {}
    try:
        yield daemon, XRayDaemonTracing(env=env, sender=DaemonSender(daemon.address))
    finally:
        daemon.socket.close()
