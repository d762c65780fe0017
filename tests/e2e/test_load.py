"""`make load` as a developer runs it: it starts its own API, stays within its bounds, writes its report."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO

pytestmark = pytest.mark.e2e

USERS = 2
SECONDS = 4
REQUESTS = 150


def template_args(report: Path) -> dict[str, Any]:
    """The data Locust's HTML report draws its charts and tables from."""
    page = report.read_text()
    start = page.index("window.templateArgs = ") + len("window.templateArgs = ")
    data, _ = json.JSONDecoder().raw_decode(page[start:])
    return dict(data)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed on this machine")
def test_make_load_runs_within_its_bounds_and_writes_a_report_without_failures(tmp_path: Path) -> None:
    report = tmp_path / "report" / "load.html"
    # Never another host: LOAD_URL empty means `make load` starts the API itself, on free loopback ports.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STARGATE_", "STORE_", "ORDERS_STORE", "POWERTOOLS_", "LOAD_"))
    }
    command = [
        "make",
        "--no-print-directory",
        "load",
        "LOAD_URL=",
        f"LOAD_USERS={USERS}",
        f"LOAD_SECONDS={SECONDS}",
        f"LOAD_REQUESTS={REQUESTS}",
        f"LOAD_REPORT={report}",
    ]
    # A session of its own, so that a hung run can be stopped with everything it started.
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output = process.communicate(timeout=90)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode(errors="replace")
        pytest.fail(f"make load did not finish within 90 s:\n{output}")

    assert process.returncode == 0, output
    assert "0 failures" in output

    # The HTML report: Locust's charts and the statistics table, grouped by route.
    page = report.read_text()
    for chart in ("Total Requests per Second", "Response Times", "Number of Users"):
        assert chart in page
    data = template_args(report)
    assert data["is_report"] is True
    assert isinstance(data["history"], list)
    routes = {(row["method"], row["name"]) for row in data["requests_statistics"]}
    assert {("POST", "/orders"), ("GET", "/orders/{id}"), ("GET", "/orders?limit=N")} <= routes
    assert not data["failures_statistics"]

    # The CSV files beside it: no failure, and no more requests than asked (give or take one per user).
    stats = {row["Name"]: row for row in csv_rows(report.with_name("load_stats.csv"))}
    total = stats["Aggregated"]
    assert total["Failure Count"] == "0"
    assert 0 < int(total["Request Count"]) <= REQUESTS + USERS
    assert csv_rows(report.with_name("load_failures.csv")) == []
    assert csv_rows(report.with_name("load_exceptions.csv")) == []


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed on this machine")
def test_make_load_compares_throughput_across_counts_of_execution_environments(tmp_path: Path) -> None:
    report = tmp_path / "load.html"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("STORE_", "LOAD_"))}

    finished = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "load",
            "LOAD_URL=",
            "LOAD_USERS=4",
            "LOAD_SECONDS=3",
            "LOAD_REQUESTS=100",
            "LOAD_ENVIRONMENTS=1,2",
            f"LOAD_REPORT={report}",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output
    assert output.count("0 failures") == 2
    assert "as a ratio to the first run" in output
    [first] = [line for line in output.splitlines() if "1 environment :" in line]
    assert first.endswith("1.00x")
    assert any("2 environments:" in line and line.endswith("x") for line in output.splitlines())
    assert (tmp_path / "load-1env.html").exists()
    assert (tmp_path / "load-2env.html").exists()


def test_make_load_against_a_dead_url_stops_at_once_saying_so(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"

    finished = subprocess.run(
        ["make", "--no-print-directory", "load", f"LOAD_URL={url}", f"LOAD_REPORT={tmp_path / 'r.html'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode != 0
    assert f"load: nothing answers at {url}" in finished.stderr
    assert "users for at most" not in finished.stdout  # Locust never started its 30 s
