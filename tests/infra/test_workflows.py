"""The GitHub workflows are valid workflow files (GitHub's schema, vendored by check-jsonschema: offline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.synthesis import REPO_ROOT

pytestmark = pytest.mark.infra

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[path.name for path in WORKFLOWS])
def test_each_workflow_validates_against_githubs_workflow_schema(workflow: Path) -> None:
    check = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_workflow_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: not-a-list\n")
    check = Path(sys.executable).parent / "check-jsonschema"

    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        check=False,
    )

    assert result.returncode != 0


def test_dependabot_configuration_validates_against_its_schema() -> None:
    check = Path(sys.executable).parent / "check-jsonschema"
    config = REPO_ROOT / ".github" / "dependabot.yml"
    command = [str(check), "--builtin-schema", "vendor.dependabot", str(config)]

    result = subprocess.run(command, capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
