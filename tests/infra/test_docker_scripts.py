"""scripts/docker: the Docker engine start-dockerd.sh starts is recorded, and stop-dockerd.sh stops that
one process and nothing else (dockerd and docker are played by small scripts on PATH)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.synthesis import REPO_ROOT

pytestmark = pytest.mark.infra

SCRIPTS = REPO_ROOT / "scripts" / "docker"


def alive(process: subprocess.Popen[bytes] | int) -> bool:
    pid = process if isinstance(process, int) else process.pid
    if not isinstance(process, int) and process.poll() is not None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """A process the scripts did not start, e.g. another engine on the machine."""
    process = subprocess.Popen(["sleep", "300"])
    yield process
    process.kill()
    process.wait()


@pytest.fixture
def fake_docker(tmp_path: Path) -> dict[str, str]:
    """The environment for the scripts: a `docker` that answers once `dockerd` has started, no sudo."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ready = tmp_path / "engine-ready"
    (bin_dir / "docker").write_text(f'#!/bin/sh\ntest -e "{ready}"\n')
    (bin_dir / "dockerd").write_text(f'#!/bin/sh\ntouch "{ready}"\nexec sleep 300\n')
    for name in ("docker", "dockerd"):
        (bin_dir / name).chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "DOCKERD_SUDO": "",
        "DOCKERD_LOG": str(tmp_path / "dockerd.log"),
        "DOCKERD_PID_FILE": str(tmp_path / "dockerd.pid"),
        "DOCKERD_STOP_WAIT_S": "5",
    }


def run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPTS / script)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def recorded_pids(env: dict[str, str]) -> list[int]:
    return [int(line.split()[0]) for line in Path(env["DOCKERD_PID_FILE"]).read_text().splitlines()]


def test_the_engine_started_is_recorded_and_stopped_and_nothing_else(
    fake_docker: dict[str, str], bystander: subprocess.Popen[bytes]
) -> None:
    # Given start-dockerd.sh started an engine (no engine answered before)
    started = run("start-dockerd.sh", fake_docker)
    assert started.returncode == 0, started.stderr
    [engine] = recorded_pids(fake_docker)
    try:
        assert alive(engine)

        # When stop-dockerd.sh runs
        stopped = run("stop-dockerd.sh", fake_docker)

        # Then that engine is gone, the bystander lives on, and the record is removed
        assert stopped.returncode == 0, stopped.stderr
        deadline = time.monotonic() + 5
        while alive(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(engine)
        assert alive(bystander)
        assert not Path(fake_docker["DOCKERD_PID_FILE"]).exists()
    finally:
        if alive(engine):
            os.kill(engine, 9)


def test_an_engine_that_already_answers_is_not_recorded(fake_docker: dict[str, str], tmp_path: Path) -> None:
    # Given an engine answers already
    (tmp_path / "engine-ready").touch()

    # When start-dockerd.sh runs
    started = run("start-dockerd.sh", fake_docker)

    # Then it started nothing, so there is nothing to stop later
    assert started.returncode == 0, started.stderr
    assert "already answers" in started.stderr
    assert not Path(fake_docker["DOCKERD_PID_FILE"]).exists()


def test_a_recorded_pid_that_now_names_another_process_is_left_alone(
    fake_docker: dict[str, str], bystander: subprocess.Popen[bytes]
) -> None:
    # Given a record whose pid is now another process's (its start time differs), and one that is gone
    Path(fake_docker["DOCKERD_PID_FILE"]).write_text(
        f"{bystander.pid} Thu_Jan_1_00:00:00_1970\n999999999 Thu_Jan_1_00:00:00_1970\n"
    )

    # When stop-dockerd.sh runs
    stopped = run("stop-dockerd.sh", fake_docker)

    # Then neither is signalled, and the stale record is removed
    assert stopped.returncode == 0, stopped.stderr
    assert alive(bystander)
    assert not Path(fake_docker["DOCKERD_PID_FILE"]).exists()


def test_without_a_record_stop_does_nothing(fake_docker: dict[str, str]) -> None:
    stopped = run("stop-dockerd.sh", fake_docker)

    assert stopped.returncode == 0
    assert stopped.stderr == ""


def test_make_test_integration_installs_and_starts_nothing_unless_asked() -> None:
    def recipe(*settings: str) -> str:
        return subprocess.run(
            ["make", "-n", "-o", ".venv/bin/.installed", "test-integration", *settings],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    plain, asked = recipe(), recipe("DOCKER_SETUP=1")

    # By default: the engine the user runs, no dockerd started, no debootstrap image built
    assert "start-dockerd.sh" not in plain
    assert "stop-dockerd.sh" not in plain
    assert "STARGATE_IMAGE_FALLBACK=0" in plain
    # Asked (CI): an engine may be installed and started, and is stopped at the end
    assert asked.index("start-dockerd.sh") < asked.index("pytest") < asked.index("stop-dockerd.sh")
    assert "STARGATE_IMAGE_FALLBACK=1" in asked
