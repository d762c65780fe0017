"""The local adapter builds the same HTTP API payload 2.0 events API Gateway sends the function."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.api import LocalApiServer, LocalContext, http_api_event
from localdev.run import local_concurrency
from localdev.stargate.core.http import StargateHTTPServer
from localdev.stargate.core.routing import Router
from localdev.tokens import LocalIssuer

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


class Served(LocalApiServer):
    """The local server over a handler that records each event, and its console lines."""

    events: list[dict[str, Any]]
    lines: list[str]


@pytest.fixture
def local_server() -> Iterator[Served]:
    events: list[dict[str, Any]] = []
    lines: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    issuer = LocalIssuer(tempfile.mkdtemp())
    server = Served(("127.0.0.1", 0), handler, authorize=issuer.authorize, access_log=lines.append)
    server.events, server.lines = events, lines
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
    local_server: Served, header: bytes, status: int
) -> None:
    host, port = local_server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=5) as raw:
        raw.sendall(b"POST /orders HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        answer = b""
        while chunk := raw.recv(65536):  # the server closes the connection after refusing
            answer += chunk

    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    assert b'"message"' in answer


def raw_request(server: LocalApiServer, request: bytes) -> bytes:
    host, port = server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=5) as raw:
        raw.sendall(request)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    return answer


def test_repeated_headers_reach_the_function_joined_with_commas_as_api_gateway_joins_them(
    local_server: Served,
) -> None:
    raw_request(
        local_server,
        b"GET /orders HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n"
        b"Connection: close\r\n\r\n",
    )

    [event] = local_server.events
    assert event["headers"]["idempotency-key"] == "a,b"


def test_each_request_gets_one_console_line_refusals_with_their_reason_never_the_token(
    local_server: Served,
) -> None:
    url = f"http://127.0.0.1:{local_server.server_address[1]}"
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZQ"

    assert requests.get(f"{url}/orders?cursor=secret-query", timeout=5).status_code == 200
    assert (
        requests.get(f"{url}/orders", headers={"Authorization": f"Bearer {forged}"}, timeout=5).status_code
        == 401
    )

    allowed, refused = local_server.lines
    assert allowed.startswith("GET /orders 200 ")
    assert "caller local" in allowed
    assert "secret-query" not in allowed  # the path only: queries carry cursors
    assert refused.startswith("GET /orders 401 ")
    assert "refused before the function: the token was not signed by this make run" in refused
    assert forged not in refused
    assert "eyJ" not in refused


def test_two_hundred_clients_at_once_are_all_answered_none_reset(local_server: Served) -> None:
    url = f"http://127.0.0.1:{local_server.server_address[1]}"

    def one(_: int) -> int | str:
        try:
            return requests.get(f"{url}/orders", timeout=30).status_code
        except requests.ConnectionError as error:
            return type(error).__name__

    with concurrent.futures.ThreadPoolExecutor(200) as pool:
        outcomes = list(pool.map(one, range(200)))

    assert outcomes == [200] * 200


def connections_queued(address: tuple[Any, ...], count: int) -> int:
    """How many of ``count`` connections the kernel completes while nothing accepts them."""
    opened: list[socket.socket] = []
    try:
        for _ in range(count):
            client = socket.socket()
            client.settimeout(0.3)
            try:
                client.connect((str(address[0]), int(address[1])))
            except OSError:
                client.close()
                continue
            opened.append(client)
        return len(opened)
    finally:
        for client in opened:
            client.close()


def test_both_local_servers_queue_a_burst_of_200_connections_while_busy() -> None:
    # Given make run's server and the embedded store's, bound but not accepting (all threads busy)
    api = LocalApiServer(("127.0.0.1", 0), lambda event, context: {})
    store = StargateHTTPServer(("127.0.0.1", 0), Router([]))
    try:
        # Then a burst of 200 is queued by the kernel, not dropped (a backlog of 5 kept 6)
        assert connections_queued(api.server_address, 200) == 200
        assert connections_queued(store.server_address, 200) == 200
    finally:
        api.server_close()
        store.server_close()


@pytest.mark.parametrize(
    ("store_api", "setting", "expected"),
    [("data", "", os.cpu_count() or 1), ("documents", "", 1), ("documents", "4", 4), ("data", " 3 ", 3)],
)
def test_local_concurrency_defaults_to_the_cpus_and_to_one_for_the_document_api(
    store_api: str, setting: str, expected: int
) -> None:
    assert local_concurrency(store_api, {"LOCAL_CONCURRENCY": setting}) == expected


@pytest.mark.parametrize("setting", ["0", "-1", "two", "1.5", "65"])
def test_a_local_concurrency_that_is_not_a_count_is_refused_in_one_line(setting: str) -> None:
    with pytest.raises(ValueError, match="LOCAL_CONCURRENCY must be a whole number from 1 to 64"):
        local_concurrency("data", {"LOCAL_CONCURRENCY": setting})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "abc"}, "PORT must be a port number from 0 to 65535 (0: any free port), got 'abc'."),
        ({"STARGATE_PORT": "70000"}, "STARGATE_PORT must be a port number from 0 to 65535"),
        (
            {"STORE_URL": "https://<db-id>-<region>.apps.astra.datastax.com/api/json"},
            "STORE_URL still holds a placeholder",
        ),
        ({"LOCAL_CONCURRENCY": "many"}, "LOCAL_CONCURRENCY must be a whole number from 1 to 64"),
    ],
)
def test_make_run_refuses_a_setting_it_cannot_use_in_one_line_before_starting_anything(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    repo = Path(__file__).resolve().parents[2]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STORE_", "STARGATE_", "PORT"))}
    run = subprocess.run(
        [sys.executable, "-m", "localdev.run"],
        cwd=repo,
        env={
            **clean,
            "PYTHONPATH": f"{repo / 'lambda_src'}{os.pathsep}{repo}",
            "PORT": "0",
            "STARGATE_PORT": "0",
            "DATA_DIR": str(tmp_path / "data"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("target", ["//[x", "//[::1", "/orders//[", "/a#b?c=1"])
def test_a_request_target_is_a_path_and_a_query_never_a_host(target: str) -> None:
    # "//[x" once raised "Invalid IPv6 URL" in make run (urlsplit read it as a host): no answer at all
    event = http_api_event("GET", target)

    assert event["rawPath"] == target.partition("?")[0].partition("#")[0]
    assert event["requestContext"]["http"]["path"] == event["rawPath"]
