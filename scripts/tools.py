"""Scanners kept apart from ``.venv`` (their own pins would fight the project's): each in a virtual
environment of its own under ``.build/tools/<name>``, installed from its pinned, hash-locked
requirements the first time (PyPI needed once), and again whenever those change."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tool(name: str, requirements: Path) -> Path:
    """The ``bin`` folder of ``name``'s environment, installed from ``requirements`` if needed."""
    home = REPO / ".build" / "tools" / name
    stamp = home / ".installed"
    if stamp.exists() and stamp.read_text() == requirements.read_text():
        return home / "bin"
    print(f"tools: installing {name} into {home.relative_to(REPO)} (once)", file=sys.stderr)
    venv.create(home, with_pip=True, clear=True)
    subprocess.run(
        [
            str(home / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--require-hashes",
            "-r",
            str(requirements),
        ],
        check=True,
    )
    stamp.write_text(requirements.read_text())
    return home / "bin"
