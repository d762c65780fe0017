"""The `make` commands the README shows exist, and the deploy ones reach the CDK CLI with `CDK_ARGS`.

The README's examples against `make run` are run for real by ``tests/e2e/test_readme.py``; the deploy
commands need an AWS account, so here they run for real against a stand-in ``npx`` that records the
command line it was given (the CDK CLI is started as ``npx --no-install cdk ...``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.recorded_cli import RecordedCli
from tests.infra.synthesis import REPO_ROOT


def make(*args: str) -> str:
    return subprocess.run(["make", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout


def test_every_make_target_the_readme_shows_is_one_make_help_lists() -> None:
    shown = set(re.findall(r"\bmake(?: -s)? ([a-z][a-z-]*)", (REPO_ROOT / "README.md").read_text()))
    listed = set(re.findall(r"^\s+([a-z][a-z-]*)\s", make("-s", "help"), re.MULTILINE))

    assert {"run", "test", "help", "bootstrap", "deploy", "smoke", "destroy"} <= shown
    assert shown - {"help"} <= listed, f"the README shows targets make help does not list: {shown - listed}"


@pytest.mark.parametrize(
    ("target", "expected"), [("bootstrap", ["bootstrap"]), ("diff", ["diff", "OrdersApi"])]
)
def test_deploy_commands_reach_the_cdk_cli_with_cdk_args_word_for_word(
    cli: RecordedCli, target: str, expected: list[str]
) -> None:
    run = cli.make(
        target, "CDK_ARGS=--profile dev -c 'corsAllowOrigins=https://a.example, https://b.example'"
    )

    assert run.returncode == 0, run.stderr
    [command, no_notices, *rest] = cli.received()[0][2:]
    assert (command, no_notices) == (expected[0], "--no-notices")
    assert rest == [
        *expected[1:],
        "--profile",
        "dev",
        "-c",
        "corsAllowOrigins=https://a.example, https://b.example",
    ]


def test_the_readmes_deploy_line_pasted_unchanged_is_refused_by_the_check_not_by_the_shell(
    cli: RecordedCli,
) -> None:
    # Given the README's deploy line with its placeholders left in (make's shell once read <db-id> as a
    # redirection: "/bin/bash: line 1: db-id: No such file or directory")
    readme = (REPO_ROOT / "README.md").read_text()
    [line] = [line for line in readme.splitlines() if line.startswith('make deploy CDK_ARGS="')]
    cdk_args = line.removeprefix('make deploy CDK_ARGS="').rsplit('"', 1)[0]

    run = cli.make("deploy", f"CDK_ARGS={cdk_args}")

    assert run.returncode == 2
    assert "storeUrl: still holds a placeholder (<db-id>, <region>)" in run.stderr
    assert "No such file" not in run.stderr
    assert cli.received() == []


def test_make_destroy_destroys_nothing_until_the_stage_is_named(cli: RecordedCli) -> None:
    # Without a terminal and without CONFIRM: refused, saying how to confirm
    unasked = cli.make("destroy", "CDK_ARGS=-c stage=prod")
    assert unasked.returncode == 2
    assert "CONFIRM=prod" in unasked.stderr
    # With another stage's name: refused
    wrong = cli.make("destroy", "CDK_ARGS=-c stage=prod", "CONFIRM=dev")
    assert wrong.returncode == 2
    assert "OrdersApi-prod is left as it is" in wrong.stderr
    assert cli.received() == []

    # With the stage's name: the CLI destroys that stack, without asking again
    confirmed = cli.make("destroy", "CDK_ARGS=-c stage=prod", "CONFIRM=prod")
    assert confirmed.returncode == 0, confirmed.stderr
    assert cli.received() == [
        ["--no-install", "cdk", "destroy", "--no-notices", "--force", "OrdersApi", "-c", "stage=prod"]
    ]


def test_make_destroy_in_a_terminal_asks_for_the_stage_name() -> None:
    from cdk_app.cli import Refused, confirm_destroy

    asked: list[str] = []

    def answer(typed: str) -> Callable[[str], str]:
        def ask(prompt: str) -> str:
            asked.append(prompt)
            return typed

        return ask

    confirm_destroy([], {}, answer("dev"))
    with pytest.raises(Refused, match="Not confirmed: OrdersApi-dev is left as it is"):
        confirm_destroy([], {}, answer("y"))
    assert asked == ["Type the stage name (dev) to go on: "] * 2


def test_make_clean_removes_the_local_data() -> None:
    assert re.search(r"rm -rf .*\bsome-data\b", make("-n", "clean", "DATA_DIR=some-data"))


def test_an_aws_command_without_credentials_in_sight_says_how_to_sign_in(tmp_path: Path) -> None:
    from cdk_app.cli import credentials_hint

    hint = credentials_hint("deploy", [], {}, home=tmp_path)
    assert hint is not None
    assert "aws sso login --profile <name>" in hint
    # Credentials in any usual place, a --profile, or a command that needs none: nothing to say
    assert credentials_hint("deploy", ["--profile", "dev"], {}, home=tmp_path) is None
    assert credentials_hint("deploy", [], {"AWS_PROFILE": "dev"}, home=tmp_path) is None
    assert credentials_hint("synth", [], {}, home=tmp_path) is None
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[default]\n")
    assert credentials_hint("deploy", [], {}, home=tmp_path) is None
