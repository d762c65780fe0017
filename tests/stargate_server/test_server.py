"""The server as a whole: health, routing, persistence, concurrency, roles and the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests

from localdev.stargate import Role, RunningServer, open_backend, start_in_thread

from .conftest import COLLECTION_PATH, NAMESPACE, fetch_token
from .docs_client import TIMEOUT, DocsClient

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_health_and_readiness_answer_200(stargate: RunningServer) -> None:
    health = requests.get(f"{stargate.url}/health", timeout=TIMEOUT)
    readiness = requests.get(f"{stargate.url}/checker/readiness", timeout=TIMEOUT)

    assert health.status_code == 200
    assert (readiness.status_code, readiness.text) == (200, "READY")


def test_unknown_routes_are_404_and_wrong_methods_405(client: DocsClient, orders: str) -> None:
    unknown = client.get("/v3/whatever")
    wrong_method = client.post(f"{orders}/o-1", json={"a": 1})

    assert unknown.status_code == 404
    assert wrong_method.status_code == 405


def test_documents_survive_a_restart(data_dir: Path) -> None:
    # Given a server that stored a document and then stopped
    with start_in_thread(port=0, data_dir=data_dir, token="t") as first:
        client = DocsClient(first.url, requests.Session(), "t")
        client.post("/v2/schemas/namespaces", json={"name": NAMESPACE})
        client.put(f"{COLLECTION_PATH}/kept", json={"total": 12.5})
        client.session.close()

    # When a new server starts on the same data directory
    with start_in_thread(port=0, data_dir=data_dir, token="t") as second, requests.Session() as session:
        response = DocsClient(second.url, session, "t").get(f"{COLLECTION_PATH}/kept")

    # Then the document is still there
    assert response.json() == {"documentId": "kept", "data": {"total": 12.5}}


def test_concurrent_writers_all_succeed(stargate: RunningServer, client: DocsClient, orders: str) -> None:
    # Given 8 clients writing 25 documents each at the same time
    failures: list[str] = []

    def write_many(writer: int) -> None:
        with requests.Session() as session:
            own = DocsClient(stargate.url, session, client.token)
            for n in range(25):
                response = own.put(f"{orders}/w{writer}-{n:02d}", json={"writer": writer, "n": n})
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")

    threads = [threading.Thread(target=write_many, args=(writer,)) for writer in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every write succeeded and all 200 documents can be listed
    assert failures == []
    ids, _ = client.search_all(orders, page_size=20)
    assert len(ids) == 200
    assert set(ids) == {f"w{writer}-{n:02d}" for writer in range(8) for n in range(25)}


def test_concurrent_patches_of_one_document_lose_no_key(
    client: DocsClient, orders: str, stargate: RunningServer
) -> None:
    # Given 8 clients each adding their own key to the same document
    def add_key(writer: int) -> None:
        with requests.Session() as session:
            DocsClient(stargate.url, session, client.token).patch(
                f"{orders}/shared", json={f"k{writer}": writer}
            )

    threads = [threading.Thread(target=add_key, args=(writer,)) for writer in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every key is there (each PATCH is an atomic merge)
    assert client.get(f"{orders}/shared", params={"raw": "true"}).json() == {f"k{n}": n for n in range(8)}


def test_roles_can_be_served_on_separate_ports(tmp_path: Path) -> None:
    # Given auth, documents and health checker on three ports over one store, as in the Stargate image
    backend = open_backend(tmp_path)
    auth = start_in_thread(port=0, roles={Role.AUTH}, backend=backend)
    docs = start_in_thread(port=0, roles={Role.DOCUMENTS}, backend=backend)
    checker = start_in_thread(port=0, roles={Role.HEALTH}, backend=backend)
    try:
        with requests.Session() as session:
            # When a token from the auth port is used on the documents port
            token = fetch_token(auth.url, session)
            created = DocsClient(docs.url, session, token).post("/v2/schemas/namespaces", json={"name": "ns"})

            # Then it works, and each port answers only its own routes
            assert created.status_code == 201
            assert session.get(f"{checker.url}/checker/readiness", timeout=TIMEOUT).text == "READY"
            assert session.get(f"{docs.url}/checker/readiness", timeout=TIMEOUT).status_code == 404
            assert session.post(f"{docs.url}/v1/auth", json={}, timeout=TIMEOUT).status_code == 404
    finally:
        for server in (auth, docs, checker):
            server.stop()
        backend.close()


def test_the_command_line_prints_its_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    # Given the server started the way `make stargate` starts it
    command = [sys.executable, "-m", "localdev.stargate", "--port", "0", "--data-dir", str(tmp_path)]
    with subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            url = line[line.index("http://") :].split()[0]

            # When it is called and then sent SIGTERM
            ready = requests.get(f"{url}/checker/readiness", timeout=TIMEOUT)
            process.send_signal(signal.SIGTERM)
            _, errors = process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()

    # Then it answered, and exited cleanly
    assert ready.status_code == 200
    assert (process.returncode, errors) == (0, "")
    assert (tmp_path / "stargate.sqlite3").exists()
