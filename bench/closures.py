"""Where ``make bench`` runs each handler from: the packages it would be deployed with, and nothing else.

A development virtualenv holds some 130 packages (test tools, the CDK, linters), and what a library
does at start-up can depend on what else is installed. The X-Ray SDK's ``patch_all()`` patches every
library it supports that it can import (httpx, pymongo, aiohttp ...), and pydantic's plugin look-up
reads the entry points of every installed package. Measured from the development virtualenv, the
textbook handler imported httpx, pymongo, brotli and rich with tracing on, none of which it would
have in Lambda, and the project's ratio with tracing on looked a fifth better than it is (0.42 where it
was 0.52). So each handler runs with ``python -S``
(no site-packages) and only its own closure on ``PYTHONPATH``:

- **project**: the function asset itself, built by ``cdk_app.bundling`` exactly as ``cdk synth``
  builds it (``lambda_src/requirements.txt`` with ``--no-deps``, then ``orders_api``, then byte code),
  but with wheels for this machine instead of Lambda's arm64;
- **textbook**: ``bench/textbook-requirements.txt``, the pinned closure of what a newcomer installs
  for ``bench/textbook.py`` (Powertools with the X-Ray SDK, pydantic, requests, boto3), with pip's own
  byte code.

Both are cached under ``.build/bench/`` by a hash of their inputs, as the function asset is, apart from
the function's own build directory: a build keeps one asset per target, and the bench must neither
drop the asset ``cdk synth`` or the tests use, nor have its own dropped while it runs. Linux only: the
closures are made of Linux wheels (``manylinux``), as Lambda's are.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from cdk_app.bundling import BUILD_ROOT, Target, build_function_asset, byte_code_compiler

BENCH = Path(__file__).resolve().parent
TEXTBOOK_REQUIREMENTS = BENCH / "textbook-requirements.txt"
ROOT = BUILD_ROOT.parent / "bench"


class Interpreter(NamedTuple):
    """The Python every probe runs with (``make bench BENCH_ARGS="--python python3.14"``): by default
    the one running the bench; another one of any version, to measure on Lambda's."""

    executable: str
    version: str  # as it reports it, e.g. 3.13.0

    @property
    def target(self) -> Target:
        """The closures it runs from: Linux wheels for its version and this machine."""
        major, minor = self.version.split(".")[:2]
        return Target(pip_platform=f"manylinux2014_{platform.machine()}", python_version=f"{major}.{minor}")


PYTHON = Interpreter(sys.executable, sys.version.split()[0])


# What --python accepts: a CPython the function's libraries support.
OLDEST = (3, 10)
_REPORT = "import sys; print(sys.implementation.name, sys.version.split()[0])"


def use(executable: str) -> Interpreter:
    """Run every probe with ``executable`` from now on; a clear exit if it is not a CPython of at least
    ``OLDEST`` that runs."""
    global PYTHON
    path = os.path.abspath(shutil.which(executable) or executable)  # the probes run in another directory
    try:
        reported = subprocess.run(  # the interpreter the developer asked for, no shell
            [path, "-c", _REPORT], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SystemExit(f"--python {executable}: cannot run it ({error})") from None
    needed = f"the bench needs CPython {'.'.join(map(str, OLDEST))} or later"
    if reported.returncode != 0:
        raise SystemExit(
            f"--python {executable}: it did not run as Python ({needed}):\n{reported.stderr.strip()[-1000:]}"
        )
    implementation, _, version = reported.stdout.strip().partition(" ")
    numbers = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    if implementation != "cpython" or len(numbers) != 2 or numbers < OLDEST:
        raise SystemExit(f"--python {executable}: {needed}, and it reports {reported.stdout.strip()!r}")
    PYTHON = Interpreter(path, version)
    return PYTHON


def probe_command(mode: str, which: str, *extra: str) -> list[str]:
    """``bench/probe.py`` as every measurement runs it: ``python -S``, so that nothing but the closure
    on ``PYTHONPATH`` (``runs_from``) can be imported."""
    return [PYTHON.executable, "-S", str(BENCH / "probe.py"), mode, which, *extra]


def runs_from(closure: Path) -> dict[str, str]:
    """The settings that make a probe import only from ``closure``, as Lambda imports from the
    function's code directory."""
    return {"PYTHONPATH": str(closure), "LAMBDA_TASK_ROOT": str(closure)}


def require_linux() -> None:
    """Stop with a clear message where the closures could not run."""
    if platform.system() != "Linux":
        raise SystemExit(
            f"make bench runs each handler from Linux wheels, as Lambda does; it cannot run on "
            f"{platform.system()} (use a Linux machine or container)"
        )


def project(source_dir: Path, name: str = "project") -> Path:
    """The function asset of ``source_dir`` (a ``lambda_src``) for this machine, with byte code.

    Each ``name`` (the working tree's, an ``--against`` tree's) has a build directory of its own below
    ``.build/bench/``, since a build keeps one asset per target."""
    target = PYTHON.target
    asset = build_function_asset(target, source_dir, ROOT / name).path
    compiler = byte_code_compiler(target)
    if compiler is None or compiler.version != PYTHON.version:
        # No python3.X on the PATH to compile it as the asset build does, or another release of it: the
        # probes' interpreter does it. The asset is the bench's own, never deployed, and its byte code
        # files are its own (not links).
        compile_tree(asset)
        print(f"bench: its own copy of the function asset compiled by {PYTHON.executable}", file=sys.stderr)
    return asset


# Changes when the way the textbook's closure is installed changes, so that an older one is not reused.
_TEXTBOOK_FORMAT = "2: pip --platform --python-version --no-compile, then compileall by the probes' Python"


def textbook() -> Path:
    """The textbook handler's closure, installed once per requirements file and Python version."""
    label = PYTHON.target.label
    inputs = TEXTBOOK_REQUIREMENTS.read_bytes() + label.encode() + _TEXTBOOK_FORMAT.encode()
    key = hashlib.sha256(inputs).hexdigest()[:16]
    directory = ROOT / "textbook" / f"{label}-{key}"
    if directory.is_dir():
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    # A scratch directory of its own, moved into place when complete: two benches building at once
    # never share one, and a half-built closure is never taken for a built one.
    scratch = Path(tempfile.mkdtemp(prefix=".tmp-", dir=directory.parent))
    try:
        _install_textbook(scratch)
        scratch.rename(directory)
    except OSError:
        if not directory.is_dir():  # not another bench's finished closure: a real failure
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for older in directory.parent.glob(f"{label}-*"):
        if older != directory:
            shutil.rmtree(older, ignore_errors=True)
    return directory


def _install_textbook(scratch: Path) -> None:
    # This interpreter's pip installs for the probes' one, as the function asset is built for Lambda's;
    # the probes' interpreter compiles the byte code (pip would write its own, for the wrong version).
    target = PYTHON.target
    command = [
        sys.executable, "-m", "pip", "install", "--no-deps", "--only-binary=:all:",
        "--platform", target.pip_platform, "--implementation", "cp",
        "--python-version", target.python_version, "--no-compile",
        "--target", str(scratch), "--requirement", str(TEXTBOOK_REQUIREMENTS),
        "--disable-pip-version-check", "--no-input", "--quiet",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"pip could not install {TEXTBOOK_REQUIREMENTS}:\n{result.stderr.strip()[-3000:]}")
    compile_tree(scratch)


def compile_tree(directory: Path) -> None:
    """Byte code for every module below ``directory``, written by the probes' interpreter (timestamp
    checked, as Python writes it itself)."""
    command = [PYTHON.executable, "-m", "compileall", "-q", "-j", "0", str(directory)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"could not compile the modules below {directory}:\n{result.stdout[-3000:]}")
