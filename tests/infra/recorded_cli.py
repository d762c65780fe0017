"""``make`` with a stand-in ``npx`` first on the PATH, which records the command lines it was given: the
deploy targets run for real (the CDK CLI is started as ``npx --no-install cdk ...``) without AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.infra.synthesis import REPO_ROOT


class RecordedCli:
    """``make`` run with a stand-in ``npx`` first on the PATH: what reached the CDK CLI, word by word."""

    def __init__(self, directory: Path) -> None:
        self.calls = directory / "calls.jsonl"
        fake = directory / "npx"
        fake.write_text(
            f"#!{sys.executable}\nimport json, sys\n"
            f"open({str(self.calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        )
        fake.chmod(0o755)
        self.path = f"{directory}{os.pathsep}{os.environ['PATH']}"

    def make(self, *args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if key not in ("CDK_ARGS", "CONFIRM")}
        return subprocess.run(
            ["make", "-s", *args],
            cwd=REPO_ROOT,
            env={**env, "PATH": self.path},
            stdin=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    def received(self) -> list[list[str]]:
        if not self.calls.exists():
            return []
        return [json.loads(line) for line in self.calls.read_text().splitlines()]
