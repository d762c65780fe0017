"""The deploy guard: `make deploy` refuses the placeholder store URL and invalid settings up front."""

from __future__ import annotations

import pytest

from cdk_app.deploy_check import context_from, main, problems
from tests.infra.recorded_cli import RecordedCli

pytestmark = pytest.mark.infra

ASTRA = "https://0123abcd-eu-west-1.apps.astra.datastax.com/api/json"


def test_the_placeholder_url_is_refused_naming_the_setting_and_how_to_give_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 2
    message = capsys.readouterr().err
    assert "storeUrl" in message
    assert 'CDK_ARGS="-c storeUrl=' in message


@pytest.mark.parametrize(
    "arguments",
    [["-c", f"storeUrl={ASTRA}"], [f"--context=storeUrl={ASTRA}"], [f"-cstoreUrl={ASTRA}"]],
)
def test_a_real_url_given_any_way_the_cli_accepts_lets_the_deploy_go_ahead(arguments: list[str]) -> None:
    assert problems([*arguments, "--profile", "dev"]) == []


def test_invalid_settings_are_refused_too() -> None:
    found = problems(["-c", f"storeUrl={ASTRA}", "-c", "memorySize=12"])

    assert len(found) == 1
    assert "memorySize" in found[0]


def test_later_arguments_override_cdk_json() -> None:
    context = context_from(["-c", "apiAuth=none", "-c", "apiAuth=iam"])

    assert context["apiAuth"] == "iam"
    assert context["storeNamespace"] == "default_keyspace"


def test_make_deploy_stops_before_the_cdk_cli_while_the_placeholder_is_set(cli: RecordedCli) -> None:
    run = cli.make("deploy")

    assert run.returncode == 2
    assert "Not deploying: storeUrl is still the placeholder" in run.stderr
    assert cli.received() == []
