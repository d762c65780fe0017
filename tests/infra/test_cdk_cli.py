"""The real CDK CLI, as `make synth` runs it: offline, no Docker, from a clean output directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.infra.synthesis import REPO_ROOT

pytestmark = pytest.mark.infra

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
# CDK adds DependsOn on the role although Fn::GetAtt already implies it; harmless, and not ours to change.
CFN_LINT_IGNORED = ["W3005"]


@dataclass(frozen=True)
class CliRun:
    result: subprocess.CompletedProcess[str]
    outdir: Path

    @property
    def template(self) -> dict[str, Any]:
        template: dict[str, Any] = json.loads((self.outdir / "OrdersApi.template.json").read_text())
        return template


def test_the_cdk_cli_runs_on_the_pinned_node_24_not_the_machines_node() -> None:
    # The CDK stopped supporting Node 20 on 2026-10-30; package.json pins Node 24 from npm.
    found = subprocess.run(
        ["npx", "--no-install", "node", "--version"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "v24.21.0"
    assert shutil.which("node", path=os.environ["PATH"]) == str(REPO_ROOT / "node_modules" / ".bin" / "node")


# What the CDK CLI would take a region from: the synths here are for its default (us-east-1) unless a
# test gives one, whatever this machine's AWS configuration says.
_REGION_SETTINGS = ("PYTHONPATH", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "CDK_DEFAULT_REGION")
_NO_AWS_CONFIGURATION = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _cdk_synth(
    outdir: Path, *context: str, region: str | None = None, env: dict[str, str] | None = None
) -> CliRun:
    if not CDK.exists():
        pytest.fail("node_modules/.bin/cdk is missing: run `npm ci` (make test does it)")
    environment = {
        # Without the Makefile's PYTHONPATH, as a bare `cdk synth` runs it: app.py finds lambda_src itself.
        **{key: value for key, value in os.environ.items() if key not in _REGION_SETTINGS},
        **_NO_AWS_CONFIGURATION,
        **({"AWS_REGION": region} if region else {}),
        # `python3 app.py` from cdk.json must be this venv's Python, as in `make synth`.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        **(env or {}),
    }
    flags = [flag for pair in context for flag in ("--context", pair)]
    command = [
        "npx",
        "--no-install",
        "cdk",
        "synth",
        "--no-notices",
        "--quiet",
        "--output",
        str(outdir),
        *flags,
    ]
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    return CliRun(result=result, outdir=outdir)


@pytest.fixture(scope="module")
def cli_synth(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    outdir = tmp_path_factory.mktemp("cli") / "cdk.out"
    assert not outdir.exists()
    return _cdk_synth(outdir)


def test_cdk_synth_succeeds_with_no_flags(cli_synth: CliRun) -> None:
    assert cli_synth.result.returncode == 0, cli_synth.result.stderr
    assert cli_synth.template["Resources"]
    # The only thing it has to say is that the store URL is still the placeholder.
    assert "storeUrl is still the placeholder" in cli_synth.result.stderr
    assert "AwsSolutions" not in cli_synth.result.stderr


def test_synthesized_template_passes_cfn_lint(cli_synth: CliRun) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    result = subprocess.run(
        [cfn_lint, "--format", "parseable", "--ignore-checks", *CFN_LINT_IGNORED, "--",
         str(cli_synth.outdir / "OrdersApi.template.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr


def test_staged_asset_is_the_bundled_function(cli_synth: CliRun) -> None:
    functions = [r for r in cli_synth.template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    [function] = [f for f in functions if f["Properties"]["Handler"] == "orders_api.handler.lambda_handler"]
    staged = cli_synth.outdir / function["Metadata"]["aws:asset:path"]

    assert (staged / "orders_api" / "handler.py").is_file()
    assert (staged / "pydantic_core").is_dir()


def test_bad_context_value_fails_the_synth_and_names_the_key(tmp_path: Path) -> None:
    run = _cdk_synth(tmp_path / "cdk.out", "apiAuth=open")

    assert run.result.returncode != 0
    assert "Invalid configuration" in run.result.stderr
    assert "apiAuth: must be one of iam, jwt, none, got 'open'" in run.result.stderr
    assert not (run.outdir / "OrdersApi.template.json").exists()


def test_a_prod_synth_without_a_cpython_of_the_runtimes_version_refuses_naming_the_fix(
    tmp_path: Path,
) -> None:
    # Given a host where no CPython 3.14 can be found (nothing is looked for)
    run = _cdk_synth(tmp_path / "cdk.out", "stage=prod", env={"BYTE_CODE_FROM": ""})

    # Then prod (which requires byte code) stops, saying how to get one or to ship source only
    assert run.result.returncode != 0
    assert "Could not build the function asset: no CPython 3.14 to compile the function's byte code" in (
        run.result.stderr
    )
    assert "-c byteCode=optional" in run.result.stderr
    assert not (run.outdir / "OrdersApi.template.json").exists()

    # And dev ships source only, with the same note, as does prod when told so explicitly
    for context in (("stage=dev",), ("stage=prod", "byteCode=optional")):
        allowed = _cdk_synth(tmp_path / "-".join(context), *context, env={"BYTE_CODE_FROM": ""})
        assert allowed.result.returncode == 0, allowed.result.stderr
        assert "note: no CPython 3.14 to compile the function's byte code" in allowed.result.stderr


def test_a_misspelled_context_key_fails_the_synth_naming_the_right_one(tmp_path: Path) -> None:
    run = _cdk_synth(tmp_path / "cdk.out", "apiauth=jwt")

    assert run.result.returncode != 0
    assert "apiauth: is not a setting of this app; did you mean apiAuth?" in run.result.stderr
    assert not (run.outdir / "OrdersApi.template.json").exists()


def test_a_synth_for_a_region_without_the_extensions_arm64_layer_leaves_it_out(tmp_path: Path) -> None:
    # Given the region the CLI deploys to (from AWS_REGION, as with a profile): Zurich, which has no
    # arm64 layer of the Parameters and Secrets extension
    run = _cdk_synth(tmp_path / "cdk.out", region="eu-central-2")

    # Then app.py builds the stack for it: no layer that CloudFormation could not find there
    assert run.result.returncode == 0, run.result.stderr
    [function] = [
        r
        for r in run.template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"]["Handler"] == "orders_api.handler.lambda_handler"
    ]
    assert "Layers" not in function["Properties"]
    assert "ParamsandsecretslayerMap" not in run.template.get("Mappings", {})
