"""Self-tests of the fault proxy: each fault does what it says, seen by a plain ``requests`` client.

Upstreams: a tiny echo server (answers what it received, and remembers it) where the test has to see
exactly what reached the upstream, and the embedded store where a fault must leave data behind
(``DropAnswer``: the write is applied, the answer lost). Time bounds are generous: they check that a
hang happened and ended, not how fast anything is.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from .conftest import EmbeddedStore
from .proxy import (
    Answer,
    Cut,
    Delay,
    DropAnswer,
    Exchange,
    Fault,
    FaultProxy,
    Garble,
    Match,
    Stall,
    Status,
    UpstreamAnswer,
    hanging_url,
    refused_url,
)

TIMEOUT = (2.0, 5.0)


# --- A tiny upstream that echoes each request and remembers it ---


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class EchoUpstream:
    url: str
    seen: list[Seen] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [request.path for request in self.seen]


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5.0  # an idle keep-alive connection frees its thread after this
    server: _EchoServer

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.echo.seen.append(
            Seen(self.command, self.path, dict(self.headers.items()), body, self.client_address[1])
        )
        answer = json.dumps({"method": self.command, "path": self.path, "body": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "echo")
        self.send_header("Content-Length", str(len(answer)))
        if self.path.startswith("/close"):  # the upstream ends the keep-alive connection
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _echo

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        self.echo = EchoUpstream(f"http://127.0.0.1:{self.server_address[1]}")


@pytest.fixture
def echo() -> Iterator[EchoUpstream]:
    server = _EchoServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server.echo
    server.shutdown()
    server.server_close()
    thread.join(2.0)


@pytest.fixture
def proxy(echo: EchoUpstream) -> Iterator[FaultProxy]:
    with FaultProxy(echo.url) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _proxy_threads(proxy: FaultProxy) -> list[str]:
    prefix = f"fault-proxy-{proxy.port}-"
    return [thread.name for thread in threading.enumerate() if thread.name.startswith(prefix)]


# --- Pass-through ---


def test_passes_method_path_query_headers_and_body_through(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    response = http.put(
        f"{proxy.url}/v2/things/1?a=1&b=two",
        data=b'{"x": 1}',
        headers={"X-Test": "yes", "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )

    assert response.status_code == 200
    assert response.headers["X-Upstream"] == "echo"
    assert response.json() == {"method": "PUT", "path": "/v2/things/1?a=1&b=two", "body": '{"x": 1}'}
    [seen] = echo.seen
    assert seen.headers["X-Test"] == "yes"
    assert seen.headers["Host"] == echo.url.removeprefix("http://")
    proxy.settle()
    [record] = proxy.requests
    assert (record.method, record.path, record.body, record.fault) == (
        "PUT",
        "/v2/things/1?a=1&b=two",
        b'{"x": 1}',
        None,
    )
    assert record.forwarded
    assert record.upstream_status == record.status == 200
    assert record.finished is not None
    assert record.finished >= record.started


def test_keeps_the_client_connection_alive_and_reuses_one_upstream_connection(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    for n in range(3):
        assert http.get(f"{proxy.url}/item/{n}", timeout=TIMEOUT).status_code == 200
    assert http.delete(f"{proxy.url}/item/0", timeout=TIMEOUT).status_code == 200

    assert proxy.connections == 1
    assert {record.connection for record in proxy.requests} == {1}
    assert len({seen.client_port for seen in echo.seen}) == 1


def test_passes_head_and_bodiless_answers_through(proxy: FaultProxy, http: requests.Session) -> None:
    head = http.head(f"{proxy.url}/h", timeout=TIMEOUT)
    after = http.get(f"{proxy.url}/g", timeout=TIMEOUT)  # the connection is still in step

    assert (head.status_code, head.content, int(head.headers["Content-Length"]) > 0) == (200, b"", True)
    assert after.json()["path"] == "/g"
    assert proxy.connections == 1


def test_honours_connection_close_from_the_client(proxy: FaultProxy, http: requests.Session) -> None:
    first = http.get(f"{proxy.url}/a", headers={"Connection": "close"}, timeout=TIMEOUT)
    second = http.get(f"{proxy.url}/b", timeout=TIMEOUT)

    assert first.headers["Connection"] == "close"
    assert second.status_code == 200
    assert proxy.connections == 2


def test_reconnects_upstream_when_the_upstream_closes_keep_alive(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    assert http.get(f"{proxy.url}/close/1", timeout=TIMEOUT).status_code == 200
    assert http.get(f"{proxy.url}/close/2", timeout=TIMEOUT).status_code == 200

    assert proxy.connections == 1  # the client's connection stays open
    assert len({seen.client_port for seen in echo.seen}) == 2


def test_forwards_a_chunked_request_body(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    response = http.post(f"{proxy.url}/chunks", data=iter([b"ab", b"cd", b"ef"]), timeout=TIMEOUT)

    assert response.json()["body"] == "abcdef"
    assert echo.seen[0].headers["Content-Length"] == "6"


def test_answers_502_when_the_upstream_is_unreachable(http: requests.Session) -> None:
    with FaultProxy(refused_url()) as proxy:
        response = http.get(f"{proxy.url}/x", timeout=TIMEOUT)

    assert response.status_code == 502
    [record] = proxy.requests
    assert record.upstream_error is not None
    assert not record.forwarded


def test_only_loopback_is_used(echo: EchoUpstream) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        FaultProxy("http://10.0.0.1:8082")
    with pytest.raises(ValueError, match="no path"):
        FaultProxy(f"{echo.url}/api/json")
    with FaultProxy(echo.url.replace("127.0.0.1", "localhost")) as proxy:
        assert proxy.url.startswith("http://127.0.0.1:")
        assert proxy.upstream_url == echo.url


# --- The plan: matching, order, times, clear ---


def test_rules_match_by_method_path_and_body(proxy: FaultProxy, http: requests.Session) -> None:
    proxy.add_fault(Status(500), Match(method="delete"))
    proxy.add_fault(Status(501), Match(path="/special"))
    proxy.add_fault(Status(502), Match(method="POST", body='"insertOne"'))

    assert http.delete(f"{proxy.url}/a", timeout=TIMEOUT).status_code == 500
    assert http.get(f"{proxy.url}/x/special?q=1", timeout=TIMEOUT).status_code == 501
    assert http.post(f"{proxy.url}/c", json={"insertOne": {}}, timeout=TIMEOUT).status_code == 502
    assert http.post(f"{proxy.url}/c", json={"findOne": {}}, timeout=TIMEOUT).status_code == 200
    assert http.get(f"{proxy.url}/ordinary", timeout=TIMEOUT).status_code == 200


def test_rules_are_consulted_in_order_and_used_up_after_times(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    first = proxy.add_fault(Status(503), times=2)
    second = proxy.add_fault(Status(429), times=1)

    statuses = [http.get(f"{proxy.url}/n/{n}", timeout=TIMEOUT).status_code for n in range(5)]

    assert statuses == [503, 503, 429, 200, 200]
    assert (first.used, first.exhausted, second.used, second.exhausted) == (2, True, 1, True)
    assert echo.paths() == ["/n/3", "/n/4"]
    assert [record.fault for record in proxy.requests] == ["Status", "Status", "Status", None, None]


def test_a_rule_without_times_applies_every_time_until_cleared(
    proxy: FaultProxy, http: requests.Session
) -> None:
    proxy.add_fault(Status(500))
    assert [http.get(f"{proxy.url}/x", timeout=TIMEOUT).status_code for _ in range(3)] == [500] * 3

    proxy.clear()

    assert proxy.rules == []
    assert http.get(f"{proxy.url}/x", timeout=TIMEOUT).status_code == 200


def test_counts_requests_and_connections(proxy: FaultProxy, http: requests.Session) -> None:
    http.post(f"{proxy.url}/c", json={"insertOne": {}}, timeout=TIMEOUT)
    http.post(f"{proxy.url}/c", json={"insertOne": {}}, timeout=TIMEOUT)
    http.post(f"{proxy.url}/c", json={"findOne": {}}, timeout=TIMEOUT)
    requests.get(f"{proxy.url}/other", timeout=TIMEOUT)  # a second connection

    assert proxy.count() == 4
    assert proxy.count(Match(body='"insertOne"')) == 2
    assert proxy.count(Match(method="GET")) == 1
    assert proxy.connections == 2

    proxy.clear_records()

    assert (proxy.count(), proxy.connections) == (0, 0)


# --- Answers instead of the upstream's ---


def test_status_answers_without_contacting_the_upstream(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Status(503), times=1)
    proxy.add_fault(Status(429, b"slow down", headers={"Retry-After": "1"}), times=1)
    proxy.add_fault(Status(401, json={"description": "bad token"}), times=1)

    unavailable = http.get(f"{proxy.url}/a", timeout=TIMEOUT)
    throttled = http.get(f"{proxy.url}/b", timeout=TIMEOUT)
    unauthorized = http.get(f"{proxy.url}/c", timeout=TIMEOUT)

    assert unavailable.status_code == 503
    assert unavailable.json()["code"] == 503
    assert (throttled.status_code, throttled.content, throttled.headers["Retry-After"]) == (
        429,
        b"slow down",
        "1",
    )
    assert (unauthorized.status_code, unauthorized.json()) == (401, {"description": "bad token"})
    assert echo.seen == []
    assert not any(record.forwarded for record in proxy.requests)
    assert proxy.connections == 1  # an error answer keeps the connection open


def test_status_with_forward_lets_the_upstream_apply_the_request(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Status(504, forward=True))

    assert http.put(f"{proxy.url}/doc/1", data=b"{}", timeout=TIMEOUT).status_code == 504
    assert echo.paths() == ["/doc/1"]


def test_answer_sends_a_given_json_value(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Answer(200, json={}))

    response = http.post(f"{proxy.url}/c", json={"insertOne": {}}, timeout=TIMEOUT)

    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["Content-Type"] == "application/json"
    assert echo.seen == []


def test_garble_answers_200_with_a_body_that_is_not_json(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Garble(), times=1)
    proxy.add_fault(Garble(b'{"data": {"documents": [', forward=True), times=1)

    garbled = http.get(f"{proxy.url}/a", timeout=TIMEOUT)
    truncated = http.get(f"{proxy.url}/b", timeout=TIMEOUT)

    for response in (garbled, truncated):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        with pytest.raises(requests.JSONDecodeError):
            response.json()
    assert echo.paths() == ["/b"]


# --- Cut connections ---


def test_cut_closes_before_any_byte_and_the_upstream_never_sees_it(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Cut(), times=1)

    with pytest.raises(requests.ConnectionError):
        http.post(f"{proxy.url}/c", json={"insertOne": {}}, timeout=TIMEOUT)

    assert echo.seen == []
    [record] = proxy.requests
    assert (record.fault, record.forwarded, record.status) == ("Cut", False, None)
    assert http.get(f"{proxy.url}/after", timeout=TIMEOUT).status_code == 200  # on a new connection
    assert proxy.connections == 2


@pytest.mark.parametrize("cut", [Cut(after_bytes=10), Cut(reset=True)], ids=["in-status-line", "reset"])
def test_cut_in_the_headers_or_with_a_reset_is_a_connection_error(
    proxy: FaultProxy, http: requests.Session, cut: Cut
) -> None:
    proxy.add_fault(cut)

    with pytest.raises(requests.ConnectionError):
        http.get(f"{proxy.url}/x", timeout=TIMEOUT)


def test_cut_in_the_body_is_a_chunked_encoding_error(proxy: FaultProxy, http: requests.Session) -> None:
    head_length = Cut.CANNED.to_bytes().index(b"\r\n\r\n") + 4
    proxy.add_fault(Cut(after_bytes=head_length + 5))

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        http.get(f"{proxy.url}/x", timeout=TIMEOUT)


def test_drop_answer_applies_a_document_api_write_but_loses_its_answer(
    fault_proxy: FaultProxy, embedded_store: EmbeddedStore, collection_name: str, http: requests.Session
) -> None:
    path = f"/v2/namespaces/{embedded_store.namespace}/collections/{collection_name}/order-1"
    fault_proxy.add_fault(DropAnswer(), Match(method="PUT"))

    with pytest.raises(requests.ConnectionError):
        http.put(fault_proxy.url + path, json={"n": 1}, headers=embedded_store.headers, timeout=TIMEOUT)

    stored = http.get(embedded_store.url + path, headers=embedded_store.headers, timeout=TIMEOUT)
    assert stored.status_code == 200
    assert stored.json()["data"] == {"n": 1}
    [record] = fault_proxy.requests
    assert (record.fault, record.forwarded, record.upstream_status, record.status) == (
        "DropAnswer",
        True,
        200,
        None,
    )


def test_drop_answer_on_a_data_api_insert_only(
    fault_proxy: FaultProxy, embedded_store: EmbeddedStore, collection_name: str, http: requests.Session
) -> None:
    keyspace_url = f"{fault_proxy.url}/api/json/v1/{embedded_store.namespace}"
    headers = {"Token": embedded_store.token}
    fault_proxy.add_fault(DropAnswer(), Match(body='"insertOne"'), times=1)

    created = http.post(
        keyspace_url, json={"createCollection": {"name": collection_name}}, headers=headers, timeout=TIMEOUT
    )
    assert created.status_code == 200, created.text
    with pytest.raises(requests.ConnectionError):
        http.post(
            f"{keyspace_url}/{collection_name}",
            json={"insertOne": {"document": {"_id": "o1", "n": 1}}},
            headers=headers,
            timeout=TIMEOUT,
        )
    found = http.post(
        f"{keyspace_url}/{collection_name}",
        json={"findOne": {"filter": {"_id": "o1"}}},
        headers=headers,
        timeout=TIMEOUT,
    )

    assert found.json()["data"]["document"] == {"_id": "o1", "n": 1}
    assert [record.fault for record in fault_proxy.requests] == [None, "DropAnswer", None]


# --- Slow and missing answers ---


def test_delay_holds_the_request_then_forwards_it(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Delay(0.3))

    started = time.monotonic()
    response = http.get(f"{proxy.url}/slow", timeout=TIMEOUT)

    assert response.status_code == 200
    assert 0.3 <= time.monotonic() - started < 2.0
    assert echo.paths() == ["/slow"]


def test_delay_longer_than_the_read_timeout_still_reaches_the_upstream(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Delay(0.8))

    with pytest.raises(requests.ReadTimeout):
        http.put(f"{proxy.url}/late", data=b"{}", timeout=(1.0, 0.2))
    assert echo.seen == []  # not yet

    proxy.settle()

    assert echo.paths() == ["/late"]
    assert proxy.requests[0].forwarded


def test_delay_after_forward_applies_at_once_and_holds_the_answer(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Delay(0.5, after_forward=True))

    with pytest.raises(requests.ReadTimeout):
        http.put(f"{proxy.url}/applied", data=b"{}", timeout=(1.0, 0.2))

    assert echo.paths() == ["/applied"]


def test_stall_never_answers_so_the_read_timeout_fires(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Stall())

    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        http.get(f"{proxy.url}/never", timeout=(1.0, 0.5))
    elapsed = time.monotonic() - started

    assert 0.4 <= elapsed < 1.5
    proxy.settle(timeout=1.0)  # the stall ends once the client hangs up
    assert echo.seen == []
    [record] = proxy.requests
    assert (record.fault, record.status) == ("Stall", None)


def test_stall_with_forward_applies_the_request(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(Stall(forward=True))

    with pytest.raises(requests.ReadTimeout):
        http.put(f"{proxy.url}/applied", data=b"{}", timeout=(1.0, 0.3))

    assert echo.paths() == ["/applied"]


def test_stop_is_quick_with_stalled_and_delayed_requests_in_flight(echo: EchoUpstream) -> None:
    proxy = FaultProxy(echo.url).start()
    proxy.add_fault(Stall(), Match(path="/stall"))
    proxy.add_fault(Delay(30), Match(path="/delay"))
    proxy.add_fault(Delay(30, after_forward=True), Match(path="/after"))
    errors: list[BaseException] = []

    def call(path: str) -> None:
        try:
            requests.get(f"{proxy.url}{path}", timeout=(2.0, 30.0))
        except requests.RequestException as error:
            errors.append(error)

    clients = [threading.Thread(target=call, args=(path,)) for path in ("/stall", "/delay", "/after")]
    for client in clients:
        client.start()
    idle = socket.create_connection(("127.0.0.1", proxy.port), timeout=2.0)  # connected, sends nothing
    proxy.wait_for(3)
    _wait_until(lambda: echo.paths() == ["/after"])  # forwarded, answer held back

    started = time.monotonic()
    proxy.stop()
    stopped_in = time.monotonic() - started
    for client in clients:
        client.join(5.0)
    idle.close()

    assert stopped_in < 1.5
    assert all(isinstance(error, requests.ConnectionError) for error in errors), errors
    assert len(errors) == 3
    assert _proxy_threads(proxy) == []
    assert echo.paths() == ["/after"]
    proxy.stop()  # idempotent


class _Teapot(Fault):
    """A custom fault: forwards, then answers 418 with the upstream's body."""

    def apply(self, exchange: Exchange) -> None:
        upstream = exchange.forward()
        exchange.send_answer(UpstreamAnswer(418, upstream.headers, upstream.body))


class _Broken(Fault):
    def apply(self, exchange: Exchange) -> None:
        raise KeyError("a bug in a fault")


def test_custom_faults_use_the_exchange(
    proxy: FaultProxy, echo: EchoUpstream, http: requests.Session
) -> None:
    proxy.add_fault(_Teapot())

    response = http.get(f"{proxy.url}/tea", timeout=TIMEOUT)

    assert (response.status_code, response.json()["path"]) == (418, "/tea")
    assert proxy.requests[0].fault == "_Teapot"


def test_a_fault_that_raises_is_reported_by_stop(echo: EchoUpstream) -> None:
    proxy = FaultProxy(echo.url).start()
    proxy.add_fault(_Broken())
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{proxy.url}/x", timeout=TIMEOUT)

    with pytest.raises(RuntimeError, match="a bug in a fault"):
        proxy.stop()


# --- Failing connects: refused and hanging ---


def test_refused_url_refuses_at_once() -> None:
    url = refused_url()

    started = time.monotonic()
    with pytest.raises(requests.ConnectionError) as raised:
        requests.get(url, timeout=(1.0, 1.0))

    assert not isinstance(raised.value, requests.ConnectTimeout)
    assert time.monotonic() - started < 0.5
    assert url.startswith("http://127.0.0.1:")


def test_hanging_url_makes_a_connect_hang_until_the_connect_timeout() -> None:
    with hanging_url() as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.socket() as raw:
            raw.settimeout(1.0)
            with pytest.raises(TimeoutError):
                raw.connect((host, int(port)))

        started = time.monotonic()
        with pytest.raises(requests.ConnectTimeout):
            requests.get(url, timeout=(0.5, 1.0))
        elapsed = time.monotonic() - started

    assert 0.4 <= elapsed < 1.5
    with pytest.raises(requests.ConnectionError):  # closed: refused now
        requests.get(url, timeout=(0.5, 0.5))


def test_endpoint_fixtures(refused_endpoint: str, hanging_endpoint: str) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get(refused_endpoint, timeout=(0.5, 0.5))
    with pytest.raises(requests.ConnectTimeout):
        requests.get(hanging_endpoint, timeout=(0.3, 0.5))
