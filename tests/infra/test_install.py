"""The first command a newcomer runs: Python checked first, a small install for `make run`, nothing
half-made left behind (``scripts/make-venv`` and the Makefile's install rules)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.synthesis import REPO_ROOT

MAKE_VENV = REPO_ROOT / "scripts" / "make-venv"
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
OLD_PYTHONS = [
    *sorted(PYENV_VERSIONS.glob("3.10*/bin/python")),
    *sorted(PYENV_VERSIONS.glob("3.9*/bin/python")),
]


def fake_python(folder: Path, version: str) -> Path:
    """An interpreter that says it is ``version`` (how an old python3 on a laptop answers the check)."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "python"
    fake.write_text(f"#!/bin/sh\necho {version}\n")
    fake.chmod(0o755)
    return fake


def make_venv(python: Path | str, venv: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAKE_VENV), str(python), str(venv), "run"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("version", ["3.9", "3.10", "2.7"])
def test_a_python_that_is_too_old_is_named_in_one_line_and_nothing_is_made(
    tmp_path: Path, version: str
) -> None:
    venv = tmp_path / ".venv"

    run = make_venv(fake_python(tmp_path / "old", version), venv)

    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"This project needs Python 3.11 or newer, and '{tmp_path / 'old' / 'python'}' is Python {version}. "
        "Point the Makefile at another: make run PYTHON=python3.12 (or a full path)"
    ]
    assert not venv.exists()


@pytest.mark.skipif(not OLD_PYTHONS, reason="no Python 3.9 or 3.10 on this machine (pyenv)")
def test_a_real_old_python_is_refused_the_same_way(tmp_path: Path) -> None:
    run = make_venv(OLD_PYTHONS[0], tmp_path / ".venv")

    assert run.returncode == 2
    assert "needs Python 3.11 or newer" in run.stderr
    assert not (tmp_path / ".venv").exists()


def test_an_interpreter_that_does_not_run_is_named(tmp_path: Path) -> None:
    run = make_venv("no-such-python", tmp_path / ".venv")

    assert run.returncode == 2
    assert "'no-such-python' does not run here" in run.stderr
    assert not (tmp_path / ".venv").exists()


def test_a_venv_left_by_an_old_python_is_made_anew(tmp_path: Path) -> None:
    # Given .venv from an earlier attempt with Python 3.10
    venv = tmp_path / ".venv"
    fake_python(venv / "bin", "3.10")

    run = make_venv(sys.executable, venv)

    assert run.returncode == 0, run.stderr
    assert "was made with Python 3.10; making it anew" in run.stderr
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "True"


def make_dry(*args: str) -> str:
    """What make would run, as if ``requirements-run.lock`` had just changed (``-W``)."""
    env = {key: value for key, value in os.environ.items() if key != "MAKEFLAGS"}
    return subprocess.run(
        ["make", "-n", "-W", "requirements-run.lock", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_run_installs_only_what_it_runs() -> None:
    recipe = make_dry("run")

    assert "--require-hashes" in recipe
    assert "-r requirements-run.lock" in recipe
    assert "requirements-dev" not in recipe
    closure = (REPO_ROOT / "requirements-run.txt").read_text()
    assert "aws-cdk-lib" not in closure
    assert "-r lambda_src/requirements.txt" in closure


def test_make_test_installs_the_dev_tools_on_top() -> None:
    assert "-r requirements-dev.lock" in make_dry("install")


def test_make_distclean_removes_everything_the_makefile_made() -> None:
    recipe = subprocess.run(
        ["make", "-n", "distclean"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout

    for made in (".venv", "node_modules", "cdk.out", ".local-data", "cdk-outputs.json", "load-report"):
        assert made in recipe


def pins(requirements: Path) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` in a requirements file and the files it includes."""
    found: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            found |= pins(requirements.parent / line.removeprefix("-r ").strip())
        elif "==" in line:
            name, _, version = line.partition("==")
            found[canonical(name)] = version.split(";")[0].strip().rstrip("\\").strip()
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


# Each file of pins and the hash lock `make lock` writes from it.
LOCKS = (
    ("requirements-run.txt", "requirements-run.lock"),
    ("requirements-dev.txt", "requirements-dev.lock"),
    ("lambda_src/requirements.txt", "lambda_src/requirements.lock"),
    ("scripts/scan-requirements.txt", "scripts/scan-requirements.lock"),
    ("scripts/sbom-requirements.txt", "scripts/sbom-requirements.lock"),
    ("scripts/astrapy-suite-requirements.txt", "scripts/astrapy-suite-requirements.lock"),
)


@pytest.mark.parametrize(("pinned", "lock"), LOCKS)
def test_each_lock_holds_every_pin_at_its_version_and_a_hash_for_every_package(
    pinned: str, lock: str
) -> None:
    # A pin changed (by hand or by Dependabot) without `make lock` would install the old version
    text = (REPO_ROOT / lock).read_text()
    locked = pins(REPO_ROOT / lock)
    stale = {
        name: (version, locked.get(name))
        for name, version in pins(REPO_ROOT / pinned).items()
        if locked.get(name) != version
    }

    assert stale == {}, f"{lock} is out of date with {pinned}: run `make lock` ({stale})"
    entries = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2], flags=re.IGNORECASE)
    for entry in entries:
        if "==" in entry.split("\n")[0]:
            assert "--hash=sha256:" in entry, entry.split("\n")[0]
    if lock == "lambda_src/requirements.lock":
        # Only what the function lists: requests' character detection stays out of the asset
        assert set(locked) == set(pins(REPO_ROOT / pinned))
