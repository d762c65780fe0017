"""docs/local-astra.md's astrapy example works as printed against the server `make stargate` starts."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
DOC = REPO / "docs" / "local-astra.md"
MARKER = "<!-- astrapy-example"
DOC_URL = "http://127.0.0.1:8082"


def doc_block(language: str, after: str = "") -> str:
    """The first ``language`` code block of the doc (after the line ``after``, if given)."""
    text = DOC.read_text()
    match = re.search(rf"```{language}\n(.*?)```", text[text.index(after) :], re.DOTALL)
    assert match, f"docs/local-astra.md lost its {language} example"
    return match.group(1)


@pytest.fixture
def make_stargate(tmp_path: Path) -> Iterator[str]:
    """The server as `make stargate` runs it (on a free port, over a fresh data directory); its URL."""
    command = [sys.executable, "-m", "localdev.stargate", "--port", "0", "--data-dir", str(tmp_path)]
    with subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            yield line[line.index("http://") :].split()[0]
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_the_astrapy_example_runs_as_printed(make_stargate: str) -> None:
    script = doc_block("python", after=MARKER)
    assert DOC_URL in script
    # Same code; only the port differs, as the test's server listens on a free one.
    script = script.replace(DOC_URL, make_stargate)

    # Run twice against the same server: a reader who runs it again gets the same answer, not an error
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
        )

        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.splitlines() == ["1 299", "['o002', 'o001', 'o000']", "tea 0.997"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed on this machine")
def test_the_curl_example_runs_as_printed(make_stargate: str) -> None:
    script = doc_block("sh")
    assert DOC_URL in script

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace(DOC_URL, make_stargate)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": {"keyspaces": []}}
