"""Where ``make bench`` runs each handler from: the packages it would be deployed with, and nothing else.

A development virtualenv holds some 130 packages (test tools, the CDK, linters), and what a library
does at start-up can depend on what else is installed. The X-Ray SDK's ``patch_all()`` patches every
library it supports that it can import (httpx, pymongo, aiohttp ...), and pydantic's plugin look-up
reads the entry points of every installed package. Measured from the development virtualenv, the
textbook handler imported httpx, pymongo, brotli and rich with tracing on, none of which it would
have in Lambda, and the project looked twice as fast as it is. So each handler runs with ``python -S``
(no site-packages) and only its own closure on ``PYTHONPATH``:

- **project**: the function asset itself, built by ``cdk_app.bundling`` exactly as ``cdk synth``
  builds it (``lambda_src/requirements.txt`` with ``--no-deps``, then ``orders_api``, then byte code),
  but with wheels for this machine instead of Lambda's arm64;
- **textbook**: ``bench/textbook-requirements.txt``, the pinned closure of what a newcomer installs
  for ``bench/textbook.py`` (Powertools with the X-Ray SDK, pydantic, requests, boto3), with pip's own
  byte code.

Both are cached under ``.build/`` by a hash of their inputs, as the function asset is.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from cdk_app.bundling import BUILD_ROOT, Target, build_function_asset, byte_code_compiler

BENCH = Path(__file__).resolve().parent
TEXTBOOK_REQUIREMENTS = BENCH / "textbook-requirements.txt"
HOST = Target(
    pip_platform=f"manylinux2014_{platform.machine()}",
    python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
)


def project(source_dir: Path, build_root: Path = BUILD_ROOT) -> Path:
    """The function asset of ``source_dir`` (a ``lambda_src``) for this machine, with byte code.

    A build keeps one asset per target below ``build_root``: a second tree (``--against``) needs a
    ``build_root`` of its own, or its asset replaces the first one's."""
    asset = build_function_asset(HOST, source_dir, build_root).path
    if byte_code_compiler(HOST) is None:
        # No python3.X on the PATH to compile it as the asset build does: this interpreter does it. The
        # asset is this machine's, never deployed, and its byte code files are its own (not links).
        _compile(asset)
    return asset


def textbook() -> Path:
    """The textbook handler's closure, installed once per requirements file and Python version."""
    key = hashlib.sha256(TEXTBOOK_REQUIREMENTS.read_bytes() + HOST.label.encode()).hexdigest()[:16]
    directory = BUILD_ROOT.parent / "bench" / f"textbook-{HOST.label}-{key}"
    if directory.is_dir():
        return directory
    scratch = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    command = [
        sys.executable, "-m", "pip", "install", "--no-deps", "--only-binary=:all:",
        "--target", str(scratch), "--requirement", str(TEXTBOOK_REQUIREMENTS),
        "--disable-pip-version-check", "--no-input", "--quiet",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"pip could not install {TEXTBOOK_REQUIREMENTS}:\n{result.stderr.strip()[-3000:]}")
    _compile(scratch)
    scratch.rename(directory)
    for older in directory.parent.glob(f"textbook-{HOST.label}-*"):
        if older != directory:
            shutil.rmtree(older, ignore_errors=True)
    return directory


def _compile(directory: Path) -> None:
    command = [sys.executable, "-m", "compileall", "-q", "-j", "0", str(directory)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"could not compile the modules below {directory}:\n{result.stdout[-3000:]}")
