"""The GitHub Actions deploy role: trusted only by this repository's runs, allowed only what the CDK
CLI needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from cdk_app.config import ConfigError
from cdk_app.stack import GITHUB_STACK_NAME, add_orders_api
from tests.infra.synthesis import REPO_ROOT, cdk_json_context

pytestmark = pytest.mark.infra


def github_template(tmp_path: Path, **context: Any) -> dict[str, Any]:
    app = App(context={**cdk_json_context(), **context}, outdir=str(tmp_path))
    assert add_orders_api(app) is None  # the app holds the deploy-role stack alone
    stack = app.node.find_child(GITHUB_STACK_NAME)
    return Template.from_stack(stack).to_json()  # type: ignore[arg-type]


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def deploy_role(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The role GitHub assumes (the other one belongs to CDK's OIDC provider custom resource)."""
    [found] = [
        (key, r)
        for key, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and key.startswith("DeployRole")
    ]
    return found


def test_only_this_repositorys_main_prod_and_pull_request_runs_may_assume_it(tmp_path: Path) -> None:
    template = github_template(tmp_path, githubRepo="acme/orders-api")

    _, role = deploy_role(template)
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
    }
    assert trust["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"] == [
        "repo:acme/orders-api:ref:refs/heads/main",
        "repo:acme/orders-api:environment:prod",
        "repo:acme/orders-api:pull_request",
    ]
    assert role["Properties"]["MaxSessionDuration"] == 3600
    assert len(resources(template, "Custom::AWSCDKOpenIdConnectProvider")) == 1


def test_it_may_only_assume_the_cdk_bootstrap_roles_and_read_the_bootstrap_version(tmp_path: Path) -> None:
    template = github_template(tmp_path, githubRepo="acme/orders-api")
    role_id, _ = deploy_role(template)
    policies = [
        p for p in resources(template, "AWS::IAM::Policy") if {"Ref": role_id} in p["Properties"]["Roles"]
    ]

    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    granted = sorted(
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert granted == ["ssm:GetParameter", "sts:AssumeRole", "sts:TagSession"]
    assume = next(s for s in statements if "sts:AssumeRole" in s["Action"])
    roles = json.dumps(assume["Resource"])
    assert len(assume["Resource"]) == 4
    for kind in ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role"):
        assert f":role/cdk-hnb659fds-{kind}-" in roles
    assert "*" not in roles


def test_an_existing_github_provider_is_reused(tmp_path: Path) -> None:
    template = github_template(tmp_path, githubRepo="acme/orders-api", githubProviderExists="true")

    assert resources(template, "Custom::AWSCDKOpenIdConnectProvider") == []
    _, role = deploy_role(template)
    assert "oidc-provider/token.actions.githubusercontent.com" in json.dumps(role)


def test_a_malformed_repository_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="githubRepo"):
        github_template(tmp_path, githubRepo="not a repo")


def test_the_deploy_workflow_uses_the_role_and_the_protected_prod_environment() -> None:
    workflow = (REPO_ROOT / ".github" / "workflows" / "deploy.yml").read_text()

    assert "id-token: write" in workflow
    assert "vars.AWS_DEPLOY_ROLE_ARN" in workflow
    assert "environment: prod" in workflow
    assert "make smoke" in workflow
    assert "make diff" in workflow
