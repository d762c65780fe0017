"""The `make` commands the README shows exist, and the deploy ones reach the CDK CLI with `CDK_ARGS`.

The README's examples against `make run` are run for real by ``tests/e2e/test_readme.py``; the deploy
commands need an AWS account, so here make only prints what it would run (``make -n``), as
``test_deploy_check.py`` does for `make deploy`.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.infra.synthesis import REPO_ROOT


def make(*args: str) -> str:
    return subprocess.run(["make", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout


def test_every_make_target_the_readme_shows_is_one_make_help_lists() -> None:
    shown = set(re.findall(r"\bmake(?: -s)? ([a-z][a-z-]*)", (REPO_ROOT / "README.md").read_text()))
    listed = set(re.findall(r"^\s+([a-z][a-z-]*)\s", make("-s", "help"), re.MULTILINE))

    assert {"run", "test", "help", "bootstrap", "deploy", "smoke", "destroy"} <= shown
    assert shown - {"help"} <= listed, f"the README shows targets make help does not list: {shown - listed}"


@pytest.mark.parametrize("target", ["bootstrap", "destroy"])
def test_deploy_commands_reach_the_cdk_cli_with_cdk_args(target: str) -> None:
    recipe = make("-n", target, "CDK_ARGS=--profile dev")

    assert re.search(rf"cdk {target} .*--profile dev", recipe), recipe


def test_make_clean_removes_the_local_data() -> None:
    assert re.search(r"rm -rf .*\bsome-data\b", make("-n", "clean", "DATA_DIR=some-data"))
