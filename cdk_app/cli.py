"""The Makefile's way into the CDK CLI: ``python -m cdk_app.cli <cdk command> [arguments]``, and
``python -m cdk_app.cli check`` for make deploy's guard (``cdk_app.deploy_check``) with the same arguments.

- ``CDK_ARGS`` (the deployer's extra arguments) is read from the environment and split as a shell splits
  words, quotes included, but never run through a shell: ``-c storeUrl=https://<db-id>-<region>...``
  pasted unchanged reaches the CLI as text (and the deploy check refuses it), where make's shell read
  ``<db-id>`` as a redirection from a file.
- ``destroy`` asks first: it names the stack and waits for the stage's name to be typed, or takes
  ``CONFIRM=<stage>`` (scripts, CI); anything else destroys nothing. Only after that does it run
  ``cdk destroy --force`` (the CLI's own y/n question would be a second one).
- An AWS command started with no credentials in sight gets a note on how to sign in (the CDK's own
  "Unable to resolve AWS account" says nothing of it).
- Every command gets ``--no-notices``; the CLI is pinned (package.json), so its upgrade notice is
  switched off by the Makefile (``CDK_DISABLE_VERSION_CHECK``).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cdk_app import deploy_check
from cdk_app.config import DEFAULT_STAGE, STACK_NAME
from cdk_app.deploy_check import context_from

CDK = ("npx", "--no-install", "cdk")


class Refused(Exception):
    """The command must not run; the message says why and what to do."""


def cdk_args(env: Mapping[str, str] = os.environ) -> list[str]:
    """``CDK_ARGS`` as the CLI's arguments: split like a shell's words, never interpreted by one."""
    try:
        return shlex.split(env.get("CDK_ARGS", ""))
    except ValueError as error:  # an unclosed quote
        raise Refused(f"CDK_ARGS cannot be read ({error}): {env.get('CDK_ARGS', '')!r}") from error


def stage_of(arguments: Sequence[str]) -> str:
    """The stage these arguments deploy (``-c stage=...``, else cdk.json's, else the default)."""
    return str(context_from(arguments).get("stage") or DEFAULT_STAGE).strip()


def confirm_destroy(
    arguments: Sequence[str],
    env: Mapping[str, str] = os.environ,
    ask: Callable[[str], str] | None = None,
) -> None:
    """Return when the deployer confirmed destroying this stage; Refused otherwise."""
    stage = stage_of(arguments)
    stack = f"{STACK_NAME}-{stage}"
    given = env.get("CONFIRM")
    if given is not None:
        if given.strip() == stage:
            return
        raise Refused(f"CONFIRM={given!r} does not name the stage {stage!r}: {stack} is left as it is.")
    if ask is None:
        if not sys.stdin.isatty():
            raise Refused(
                f"make destroy removes the stack {stack} and everything in it but the token's secret. "
                f"It asks for the stage's name first; without a terminal, give it: CONFIRM={stage}"
            )
        ask = input
    print(f"This destroys the stack {stack} (the API, the function, its logs and alarms).")
    try:
        typed = ask(f"Type the stage name ({stage}) to go on: ")
    except EOFError:
        typed = ""
    if typed.strip() != stage:
        raise Refused(f"Not confirmed: {stack} is left as it is.")


# Commands that talk to AWS, and where the SDK the CDK CLI uses finds credentials without asking
# (instance and container roles aside, which cannot be seen from here).
AWS_COMMANDS = frozenset({"bootstrap", "deploy", "diff", "destroy"})
CREDENTIAL_SETTINGS = (
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


def credentials_hint(
    command: str, arguments: Sequence[str], env: Mapping[str, str] = os.environ, home: Path | None = None
) -> str | None:
    """What to do about credentials, when an AWS command starts with none in sight; None otherwise."""
    if command not in AWS_COMMANDS or "--profile" in arguments:
        return None
    if any(env.get(name) for name in CREDENTIAL_SETTINGS):
        return None
    aws = (home or Path.home()) / ".aws"
    if (aws / "credentials").is_file() or (aws / "config").is_file():
        return None
    return (
        "note: no AWS credentials in sight (no AWS_PROFILE or AWS_ACCESS_KEY_ID, no ~/.aws). If the CDK "
        "answers 'Unable to resolve AWS account', sign in first: `aws sso login --profile <name>` then "
        'CDK_ARGS="--profile <name>", or `aws configure` (docs/deploy.md).'
    )


def command_line(command: str, arguments: Sequence[str], extra: Sequence[str]) -> list[str]:
    """The CDK CLI's command line: the command, ``--no-notices``, the recipe's arguments, then CDK_ARGS."""
    return [*CDK, command, "--no-notices", *arguments, *extra]


def main(argv: Sequence[str] | None = None) -> int:
    command, *arguments = sys.argv[1:] if argv is None else argv
    try:
        extra = cdk_args()
        if command == "check":  # make deploy's guard, before the CLI starts
            return deploy_check.main(extra)
        if command == "destroy":
            confirm_destroy(extra)
            arguments = ["--force", *arguments]
    except Refused as error:
        print(error, file=sys.stderr)
        return 2
    hint = credentials_hint(command, extra)
    if hint:
        print(hint, file=sys.stderr)
    line = command_line(command, arguments, extra)
    sys.stdout.flush()
    os.execvp(line[0], line)  # noqa: S606 - no shell on purpose: CDK_ARGS must stay words, not syntax
    return 127  # not reached: execvp replaces this process or raises


if __name__ == "__main__":
    sys.exit(main())
