"""Start the API exactly as ``make run`` does (``python -m localdev.run``) and talk to it over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RunningApi:
    """One ``make run`` process: the API on ``url``, the embedded Stargate beside it, data in a folder."""

    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.stargate_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-run-{self.port}.log"

    @property
    def output(self) -> str:
        """What the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> RunningApi:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("STARGATE_", "STORE_", "ORDERS_STORE", "POWERTOOLS_"))
        }
        env.update(
            PORT=str(self.port),
            STARGATE_PORT=str(self.stargate_port),
            DATA_DIR=str(self.data_dir),
            PYTHONPATH=f"{REPO / 'lambda_src'}{os.pathsep}{REPO}",
            POWERTOOLS_LOG_LEVEL="WARNING",
            **self.extra_env,
        )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "localdev.run"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"make run exited early:\n{self.output}")
            try:
                if requests.get(f"{self.url}/openapi.json", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the API did not answer within 30 s:\n{self.output}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


STORE_APIS = ["data", "documents"]


@pytest.fixture(scope="module", params=STORE_APIS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """``make run`` with ``ORDERS_STORE_API`` set to each store API the embedded server speaks."""
    running = RunningApi(tmp_path_factory.mktemp("data"), {"ORDERS_STORE_API": request.param}).start()
    yield running
    running.stop()
