"""The GitHub workflows are valid workflow files (GitHub's schema, vendored by check-jsonschema: offline)."""

from __future__ import annotations

import re
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


def test_every_action_is_pinned_to_a_commit_with_its_version_named() -> None:
    uses = [
        (path.name, line.strip())
        for path in WORKFLOWS
        for line in path.read_text().splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]

    assert uses
    for name, line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), (name, line)


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    zizmor = Path(sys.executable).with_name("zizmor")
    run = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", str(REPO_ROOT / ".github" / "workflows")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings to report" in run.stdout + run.stderr
