"""The local adapter builds the same HTTP API payload 2.0 events API Gateway sends the function."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.api import LocalApiServer, LocalContext, http_api_event

RECORDED = json.loads((Path(__file__).parent / "events" / "http_api_v2.json").read_text())


def test_the_event_has_the_shape_of_a_recorded_http_api_event() -> None:
    event = http_api_event("POST", "/orders", {"Content-Type": "application/json"}, b"{}")

    assert set(RECORDED) <= set(event)
    assert set(RECORDED["requestContext"]) - {"authorizer"} <= set(event["requestContext"])
    assert set(RECORDED["requestContext"]["http"]) == set(event["requestContext"]["http"])
    assert event["version"] == "2.0"
    assert event["requestContext"]["http"]["method"] == "POST"


def test_headers_are_lowercased_and_repeated_query_values_joined_with_commas() -> None:
    event = http_api_event("GET", "/orders?status=PAID&tag=a&tag=b", {"Idempotency-Key": "k", "X-A": "1"})

    assert event["headers"]["idempotency-key"] == "k"
    assert event["queryStringParameters"] == {"status": "PAID", "tag": "a,b"}
    assert event["rawQueryString"] == "status=PAID&tag=a&tag=b"
    assert event["rawPath"] == "/orders"


def test_cookies_move_to_their_own_list() -> None:
    event = http_api_event("GET", "/", {"Cookie": "a=1; b=2"})

    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]


def test_text_bodies_stay_text_and_binary_bodies_are_base64() -> None:
    text = http_api_event("POST", "/orders", {"Content-Type": "application/json"}, b'{"a":1}')
    binary = http_api_event("POST", "/orders", {"Content-Type": "application/octet-stream"}, b"\xff\x00")

    assert text["body"] == '{"a":1}'
    assert text["isBase64Encoded"] is False
    assert base64.b64decode(binary["body"]) == b"\xff\x00"
    assert binary["isBase64Encoded"] is True


def test_a_request_without_body_has_no_body_key() -> None:
    assert "body" not in http_api_event("GET", "/orders")


def test_the_local_context_counts_down() -> None:
    context = LocalContext()

    assert 0 < context.get_remaining_time_in_millis() <= 29_000
    assert context.aws_request_id != LocalContext().aws_request_id


@pytest.fixture
def local_server() -> Iterator[LocalApiServer]:
    calls: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    server = LocalApiServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("header", "status"),
    [
        pytest.param(b"Content-Length: abc", 400, id="not-a-number"),
        pytest.param(b"Content-Length: -5", 400, id="negative"),
        pytest.param(b"Transfer-Encoding: chunked", 411, id="chunked"),
    ],
)
def test_a_malformed_body_framing_is_refused_in_json_not_a_traceback(
    local_server: LocalApiServer, header: bytes, status: int
) -> None:
    host, port = local_server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=5) as raw:
        raw.sendall(b"POST /orders HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        answer = b""
        while chunk := raw.recv(65536):  # the server closes the connection after refusing
            answer += chunk

    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    assert b'"message"' in answer
