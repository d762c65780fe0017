"""A self-hosted Data API (``stargateio/data-api`` beside DSE 6.9) started with Testcontainers' Docker
Compose support, for the Data API contract suite.

``start_data_api_stack()`` checks that a Docker engine and ``docker compose`` v2 answer and that the
images are present or can be pulled (else ``BackendUnavailable`` with the reason, for the caller to
skip), brings the stack up, waits for the Data API's health endpoint, and creates the test keyspace.
A stack that starts but never gets ready is a failure, not a skip.
"""

from __future__ import annotations

import base64
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.contract_support.stargate_container import BackendUnavailable, docker_client

STACK_DIR = Path(__file__).parent / "data_api_stack"
DATA_API_PORT = 8181
KEYSPACE = "contract"
USERNAME = PASSWORD = "cassandra"
READY_TIMEOUT_S = 300.0


def cassandra_token() -> str:
    """The ``Cassandra:b64(user):b64(password)`` token a self-hosted Data API takes."""
    encode = base64.b64encode
    return f"Cassandra:{encode(USERNAME.encode()).decode()}:{encode(PASSWORD.encode()).decode()}"


@dataclass
class RunningDataApi:
    """The stack, its Data API base URL on this host, and the token."""

    base_url: str
    token: str
    _compose: Any

    def stop(self) -> None:
        """Bring the stack down and remove its containers."""
        self._compose.stop()


_SHARED = pytest.StashKey["RunningDataApi | Exception"]()


def shared_data_api_stack(config: pytest.Config) -> RunningDataApi:
    """The session's one stack: started by the first suite that asks, stopped when the session ends.

    Raises ``BackendUnavailable`` (to skip) or the start-up failure, the same one for every caller.
    """
    if _SHARED not in config.stash:
        try:
            stack = start_data_api_stack()
        except Exception as failure:
            config.stash[_SHARED] = failure
            raise
        config.stash[_SHARED] = stack
        config.add_cleanup(stack.stop)
    shared = config.stash[_SHARED]
    if isinstance(shared, Exception):
        raise shared
    return shared


def _compose_command() -> list[str]:
    return [
        "docker",
        "compose",
        "--project-directory",
        str(STACK_DIR),
        "-f",
        str(STACK_DIR / "docker-compose.yml"),
    ]


def start_data_api_stack() -> RunningDataApi:
    """Start the stack and wait until the Data API takes commands (see the module docstring)."""
    docker_client()  # raises BackendUnavailable when no engine answers
    version = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
    if version.returncode != 0:
        raise BackendUnavailable(f"docker compose v2 is not available: {version.stderr.strip()[:200]}")
    pulled = subprocess.run(
        [*_compose_command(), "pull", "--quiet"], capture_output=True, text=True, check=False
    )
    if pulled.returncode != 0:
        raise BackendUnavailable(
            f"the Data API stack's images cannot be pulled: {pulled.stderr.strip()[-300:]}"
        )

    from testcontainers.compose import DockerCompose

    compose = DockerCompose(context=STACK_DIR, compose_file_name="docker-compose.yml", wait=True)
    try:
        compose.start()
        host = compose.get_service_host("data-api", DATA_API_PORT) or "127.0.0.1"
        port = compose.get_service_port("data-api", DATA_API_PORT)
        base_url = f"http://{host}:{port}"
        token = cassandra_token()
        _create_keyspace(base_url, token)
    except BaseException:
        stdout, stderr = compose.get_logs()
        print(f"Data API stack logs:\n{(stdout + stderr)[-4000:]}")
        compose.stop()
        raise
    return RunningDataApi(base_url, token, compose)


def _create_keyspace(base_url: str, token: str) -> None:
    """Create the test keyspace, retrying while the database behind the Data API settles."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        try:
            response = requests.post(
                f"{base_url}/v1",
                json={"createKeyspace": {"name": KEYSPACE}},
                headers={"Token": token},
                timeout=(3, 30),
            )
            answer = response.json() if response.status_code == 200 else {}
            if answer.get("status", {}).get("ok") == 1:
                return
            last = f"HTTP {response.status_code}: {response.text[:300]}"
        except (requests.RequestException, ValueError) as error:
            last = str(error)
        time.sleep(2)
    raise RuntimeError(f"the Data API never created keyspace {KEYSPACE}: {last}")
