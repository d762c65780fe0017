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


def _github_path_pattern(pattern: str) -> re.Pattern[str]:
    """A workflow's ``paths`` glob as GitHub reads it: ``*`` stops at ``/``, ``**`` does not."""
    parts = re.split(r"(\*\*|\*)", pattern)
    return re.compile("".join({"**": ".*", "*": "[^/]*"}.get(part, re.escape(part)) for part in parts))


def test_dependabots_pin_bumps_get_their_locks_rewritten_by_make_lock() -> None:
    # Dependabot bumps every file of pins, and the lock workflow answers each such pull request with
    # `make lock`, which rewrites every lock (otherwise the lock test fails the pull request)
    import yaml

    from tests.infra.test_install import LOCKS

    dependabot = yaml.safe_load((REPO_ROOT / ".github" / "dependabot.yml").read_text())
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "lock.yml").read_text())
    watched = [_github_path_pattern(path) for path in workflow[True]["pull_request"]["paths"]]
    pip_directories = {
        update["directory"] for update in dependabot["updates"] if update["package-ecosystem"] == "pip"
    }
    job = workflow["jobs"]["lock"]
    makefile = (REPO_ROOT / "Makefile").read_text()
    lock_recipe = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]

    for pinned, lock in LOCKS:
        assert any(pattern.fullmatch(pinned) for pattern in watched), pinned
        assert "/" + str(Path(pinned).parent).removeprefix(".") in pip_directories, pinned
        assert f"-o {lock}" in lock_recipe, lock
    assert "dependabot[bot]" in job["if"]
    assert "github.actor" not in job["if"]  # anybody's re-run would change the actor
    assert job["permissions"] == {"contents": "write"}
    assert workflow["permissions"] == {}
    assert [step["run"] for step in job["steps"] if step.get("name") == "make lock"] == ["make lock"]
