"""`make bench` as a developer runs it, with tiny counts: every case runs, both handlers answer 200, and
the figures it prints are there. The figures themselves are not asserted: they are machine-dependent
and reported, never tested."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.e2e
AGAINST = "HEAD"  # a commit every clone has, shallow ones included


def _make_bench(arguments: str) -> subprocess.CompletedProcess[str]:
    """``make bench`` as a developer runs it; it must succeed."""
    result = subprocess.run(
        ["make", "bench", f"BENCH_ARGS={arguments}"],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_make_bench_prints_every_case_the_connections_the_secret_reads_and_the_asset_size(
    tmp_path: Path,
) -> None:
    # --against: the function as committed, beside the working tree. --python: the probes' interpreter
    # (the GitHub workflow names Lambda's python3.14); here this one, behind a script that logs each run.
    runs = tmp_path / "runs.log"
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\necho "$*" >> "{runs}"\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)

    result = _make_bench(f"--runs 1 --calls 5 --blocks 1 --against {AGAINST} --python {python}")

    # Never silent for minutes: each phase says what it does, on stderr
    assert "bench: cold starts, round 1 of 1" in result.stderr
    assert "bench: warm calls: 1 blocks of 5 per case" in result.stderr

    # store API, tracing, cold ms (project, textbook), cold ratios (time, CPU), warm ratios (2 x 2)
    rows = re.findall(r"^(data|documents)\s+(on|off)(?:\s+[\d.]+){8}$", result.stdout, re.MULTILINE)
    assert sorted(rows) == [("data", "off"), ("data", "on"), ("documents", "off"), ("documents", "on")]
    # One warm process: 5 * 2 + 1 requests, one store call each, one secret read, and one connection
    # for the handler's calls beside the one of each bare session.
    assert "11 requests made 11 store calls and 1 secret read(s)" in result.stdout
    assert "20 calls, 3 TCP connection(s) to the store" in result.stdout
    floors = re.findall(
        r"^libraries alone, (.*) \(bench/floor.py; nothing answered\): \d+ ms, [\d.]+ of .* on, [\d.]+ with",
        result.stdout,
        re.MULTILINE,
    )
    assert floors == ["imported as usual", "with the project's start-up measures"]
    assert re.search(
        rf"project at {AGAINST} \(data API\): cold ratio [\d.]+ with tracing on, [\d.]+", result.stdout
    )
    assert re.search(r"without byte code: \d+ ms, [\d.]+x the cold path with it", result.stdout)
    assert re.search(r"function asset, zipped as the CDK CLI ships it: \d+\.\d MB", result.stdout)
    version, machine = sys.version.split()[0], platform.machine()
    assert f"interleaved; Python {version} on {machine}; " in result.stdout
    # Every probe ran with the interpreter named: a warm one for each handler in each case, and cold ones.
    probes = [
        line.split("probe.py ", 1)[1].split()[:2]
        for line in runs.read_text().splitlines()
        if "probe.py" in line
    ]
    assert sorted(which for mode, which in probes if mode == "warm") == ["project"] * 4 + ["textbook"] * 4
    assert {which for mode, which in probes if mode == "cold"} == {"project", "textbook", "floor"}
    # Each handler ran from its own deployment's packages, not from this virtualenv (bench/closures.py).
    assert re.search(
        r"python -S and only its own packages \(bench/closures.py\): the project's asset for this machine "
        r"\(\d+ packages\), the textbook's textbook-requirements.txt \(\d+\)",
        result.stdout,
    )


@pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="valgrind is not installed (.ci/run installs it)"
)
def test_make_bench_counts_every_cold_path_in_instructions() -> None:
    result = _make_bench(f"--runs 1 --calls 1 --blocks 1 --instructions --against {AGAINST}")

    block = result.stdout.split("cold path in instructions", 1)[1]
    apis = re.findall(
        r"^  project / textbook, (data|documents) API: (\d+\.\d{3}) with tracing on, "
        r"(\d+\.\d{3}) with tracing off \(project, tracing off: \d+ M\)$",
        block,
        re.MULTILINE,
    )
    assert [api for api, _, _ in apis] == ["data", "documents"]
    others = re.findall(
        r"^  (.*) / textbook \(data API\): \d+\.\d{3} with tracing on, \d+\.\d{3} with it off$",
        block,
        re.MULTILINE,
    )
    assert others == ["libraries alone, imported as usual", "libraries alone, lean", f"project at {AGAINST}"]
    # The project's cold path step by step: the libraries in the order imported, then its own modules,
    # then its first answer; the steps add up to the whole, whose share is the data API's ratio.
    steps = re.findall(r"^    (.+?) +(-?\d+) M  (-?\d\.\d{3})$", block, re.MULTILINE)
    assert [title.split(" (")[0] for title, _, _ in steps] == [
        "requests, and a Session",
        "+ pydantic, and one model",
        "+ Powertools' Logger and Metrics",
        "+ Powertools' HTTP resolver with validation",
        "+ the project's own modules",
        "+ the first GET answered",
    ]
    whole = re.search(r"^    = the project +(\d+) M  (\d\.\d{3}) of the textbook$", block, re.MULTILINE)
    assert whole is not None
    data_off = float(apis[0][2])
    assert float(whole.group(2)) == data_off
    assert abs(sum(float(share) for _, _, share in steps) - data_off) < 0.004  # six roundings
    assert abs(sum(int(m) for _, m, _ in steps) - int(whole.group(1))) <= 3


def test_bench_instructions_says_what_to_install_without_valgrind(tmp_path: Path) -> None:
    # PATH without valgrind (only this interpreter's directory): the option fails at once and says why.
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--instructions"],
        cwd=REPO,
        env={**os.environ, "PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "apt-get install valgrind" in result.stderr


def test_bench_python_says_so_when_the_interpreter_does_not_run(tmp_path: Path) -> None:
    # A pyenv shim of a version that is not selected exits 127: the bench stops at once and says why.
    shim = tmp_path / "python3.99"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.99: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)

    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--python", str(shim)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert (
        f"--python {shim}: it did not run as Python (the bench needs CPython 3.10 or later)" in result.stderr
    )
    assert "command not found" in result.stderr


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("#")[0].strip().split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_the_textbook_uses_the_versions_the_project_uses() -> None:
    # Same libraries, same versions: the comparison is between two handlers, not two releases.
    textbook = _pins(REPO / "bench" / "textbook-requirements.txt")
    project = _pins(REPO / "lambda_src" / "requirements.txt") | _pins(REPO / "requirements-dev.txt")

    shared = set(textbook) & set(project)

    assert {"aws-lambda-powertools", "pydantic", "requests", "boto3", "aws-xray-sdk"} <= shared
    assert {name: (textbook[name], project[name]) for name in shared if textbook[name] != project[name]} == {}
