"""The README's curl example works exactly as printed against the API that `make run` starts."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, RunningApi

pytestmark = pytest.mark.e2e

MARKER = "<!-- local-curl-example"
SIGN_IN_MARKER = "<!-- local-sign-in-example"


def readme_example(marker: str = MARKER) -> str:
    text = (REPO / "README.md").read_text()
    after = text[text.index(marker) :]
    match = re.search(r"```bash\n(.*?)```", after, re.DOTALL)
    assert match, "the README lost its curl example"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed on this machine")
def test_the_readme_curl_example_runs_against_make_run(api: RunningApi) -> None:
    script = readme_example()
    assert "http://127.0.0.1:3000" in script
    # Same commands, only the port differs: the suite's server listens on a free port.
    script = script.replace("http://127.0.0.1:3000", api.url)

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert '"status":"PENDING"' in lines[0]
    assert '"items":[' in lines[1]
    assert '"status":"PAID"' in lines[2]
    assert lines[3] == "204"
    assert '"productName":"Tea"' in lines[4]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed on this machine")
def test_the_readme_sign_in_example_shows_each_caller_only_its_own_orders(api: RunningApi) -> None:
    script = readme_example(SIGN_IN_MARKER)
    # Same commands; only the port and the data directory (where make run keeps its token key) differ.
    script = script.replace("http://127.0.0.1:3000", api.url)
    script = script.replace("make -s token", f"make -s -C {REPO} token DATA_DIR={api.data_dir}")

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["200", "404"]
    assert '"message": "Forbidden"' in lines[2]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed on this machine")
def test_the_readme_curl_example_with_nothing_running_stops_at_once_saying_why(tmp_path: Path) -> None:
    # Given no API where the example looks (a port nothing listens on)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    script = readme_example().replace("http://127.0.0.1:3000", url)

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)

    # Then it stops before any other call, with one line that says what to do, and no traceback
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == f"Nothing answers at {url}: start make run first"
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed on this machine")
def test_the_readme_curl_example_stops_at_the_first_refusal_showing_the_apis_message(api: RunningApi) -> None:
    # Given the example with a create the API refuses (a price in euros, not cents)
    script = (
        readme_example()
        .replace("http://127.0.0.1:3000", api.url)
        .replace('"productPrice":1250', '"productPrice":12.5')
    )

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)

    # Then curl fails on the 422 and nothing after it runs (no call to /orders/ with an empty id)
    assert result.returncode == 22
    assert result.stdout == ""
    assert "422" in result.stderr
