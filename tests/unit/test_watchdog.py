"""The wall-clock bound of store calls: a store that answers a byte at a time, each byte within the read
timeout, is cut off when the request's budget is spent, over HTTP and over TLS; the call runs on the
caller's thread, and the watchdog thread ends when nothing is left to watch."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
import trustme

from orders_api.errors import StoreTimeout
from orders_api.store import http
from orders_api.store.http import new_session, send, time_budget

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class OneAnswerServer:
    """Answers every request on a loopback port with ``ANSWER``, all at once or a byte every 0.1 s."""

    def __init__(self, drip: bool, tls: ssl.SSLContext | None = None) -> None:
        self.drip = drip
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        try:
            if self.tls is not None:
                connection = self.tls.wrap_socket(connection, server_side=True)
            connection.recv(65536)
            if not self.drip:
                connection.sendall(ANSWER)
            for byte in ANSWER if self.drip else b"":
                if self.stopped.wait(0.1):
                    break
                connection.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def certificate_authority(tmp_path: Path) -> tuple[ssl.SSLContext, str]:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return server_context, str(bundle)


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_a_store_dripping_its_answer_is_cut_off_when_the_budget_is_spent(
    tls: bool, certificate_authority: tuple[ssl.SSLContext, str]
) -> None:
    server_context, bundle = certificate_authority
    server = OneAnswerServer(drip=True, tls=server_context if tls else None)
    session = new_session(env={"REQUESTS_CA_BUNDLE": bundle})
    url = f"{'https' if tls else 'http'}://127.0.0.1:{server.port}/x"
    try:
        started = time.monotonic()
        with time_budget(1.0), pytest.raises(StoreTimeout):
            send(session, "GET", url, (1.0, 1.0))
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    # The answer would take 7 s; each byte comes within the read timeout, so only the budget ends it.
    assert elapsed < 2.0


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_an_answer_within_the_budget_is_read_on_the_callers_thread(
    tls: bool, certificate_authority: tuple[ssl.SSLContext, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server_context, bundle = certificate_authority
    server = OneAnswerServer(drip=False, tls=server_context if tls else None)
    session = new_session(env={"REQUESTS_CA_BUNDLE": bundle})
    threads: set[str] = set()
    original = http._exchange

    def exchange(*args: object, **kwargs: object) -> http.HttpAnswer:
        threads.add(threading.current_thread().name)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(http, "_exchange", exchange)
    try:
        with time_budget(5.0):
            answers = [
                send(session, "GET", f"{'https' if tls else 'http'}://127.0.0.1:{server.port}/x", (1, 1))
            ]
    finally:
        server.stop()
    assert [answer.status_code for answer in answers] == [200]
    assert threads == {threading.current_thread().name}


def test_the_watchdog_ends_when_idle_and_starts_again_with_the_next_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http, "WATCHDOG_IDLE_SECONDS", 0.1)
    server = OneAnswerServer(drip=False)
    session = new_session(env={})
    try:
        send(session, "GET", f"http://127.0.0.1:{server.port}/x", (1, 1))
        watchdogs = [t for t in threading.enumerate() if t.name == "store-watchdog"]
        assert watchdogs
        watchdogs[0].join(timeout=2)
        assert not watchdogs[0].is_alive()

        send(session, "GET", f"http://127.0.0.1:{server.port}/x", (1, 1))
        assert any(t.name == "store-watchdog" and t.is_alive() for t in threading.enumerate())
    finally:
        server.stop()


def test_a_cut_decided_after_the_exchange_ended_never_reaches_its_socket() -> None:
    # The connection of a finished exchange goes back to the pool and may carry the next one.
    watchdog = http._Watchdog()
    exchange = http._Exchange(deadline=time.monotonic() - 1)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        watchdog._exchanges.add(exchange)
        watchdog.attach(exchange, ours)
        watchdog.forget(exchange)

        watchdog.poll(time.monotonic())

        theirs.sendall(b"still open")
        assert ours.recv(64) == b"still open"


def test_a_cut_decided_before_the_socket_was_attached_reaches_it_when_it_is() -> None:
    # The deadline passed during a slow connect or TLS handshake.
    watchdog = http._Watchdog()
    exchange = http._Exchange(deadline=time.monotonic() - 1)
    watchdog._exchanges.add(exchange)
    assert watchdog.poll(time.monotonic()) is True
    assert exchange.cut

    ours, theirs = socket.socketpair()
    with ours, theirs:
        watchdog.attach(exchange, ours)
        assert ours.recv(64) == b""  # shut down: the blocked read ends at once


def test_a_tls_layer_over_a_tls_proxy_tunnel_is_cut_through_to_its_socket() -> None:
    class Transport:  # what urllib3 uses for TLS inside a TLS proxy tunnel: the socket is underneath
        def __init__(self, sock: socket.socket) -> None:
            self.socket = sock

    ours, theirs = socket.socketpair()
    with ours, theirs:
        http._shut_down(Transport(ours))
        assert ours.recv(64) == b""
