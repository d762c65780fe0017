"""The GitHub Actions deploy role: trusted only by this repository's runs, allowed only what the CDK
CLI needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import App
from aws_cdk.assertions import Template

from cdk_app.config import DEPLOYMENTS, ConfigError
from cdk_app.github_oidc import MAX_SESSION
from cdk_app.release import SHIFT_MINUTES
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


def github_role(template: dict[str, Any], prefix: str) -> tuple[str, dict[str, Any]]:
    """A role GitHub assumes (another one belongs to CDK's OIDC provider custom resource)."""
    [found] = [
        (key, r)
        for key, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and key.startswith(prefix)
    ]
    return found


def deploy_role(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return github_role(template, "DeployRole")


def statements_of(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    policies = [
        p for p in resources(template, "AWS::IAM::Policy") if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def granted(statements: list[dict[str, Any]]) -> list[str]:
    return sorted(
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )


def trusted_subjects(role: dict[str, Any]) -> list[str]:
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
    }
    subjects: list[str] = trust["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"]
    return subjects


def test_only_this_repositorys_main_and_prod_runs_may_assume_the_deploy_role(tmp_path: Path) -> None:
    template = github_template(tmp_path, githubRepo="acme/orders-api")

    _, role = deploy_role(template)
    assert trusted_subjects(role) == [
        "repo:acme/orders-api:ref:refs/heads/main",
        "repo:acme/orders-api:environment:prod",
    ]
    assert role["Properties"]["MaxSessionDuration"] == MAX_SESSION.to_seconds()
    assert len(resources(template, "Custom::AWSCDKOpenIdConnectProvider")) == 1


def test_pull_requests_get_only_the_diff_role_which_cannot_deploy(tmp_path: Path) -> None:
    # A pull request's workflow runs the branch's own code: it must not reach a role that deploys.
    template = github_template(tmp_path, githubRepo="acme/orders-api")

    diff_id, diff = github_role(template, "DiffRole")
    assert trusted_subjects(diff) == ["repo:acme/orders-api:pull_request"]
    statements = statements_of(template, diff_id)
    assert granted(statements) == ["ssm:GetParameter", "sts:AssumeRole", "sts:TagSession"]
    assume = next(s for s in statements if "sts:AssumeRole" in s["Action"])
    [lookup] = assume["Resource"] if isinstance(assume["Resource"], list) else [assume["Resource"]]
    assert ":role/cdk-hnb659fds-lookup-role-" in json.dumps(lookup)
    assert "DiffRoleArn" in template["Outputs"]


def test_the_deploy_role_may_assume_the_cdk_bootstrap_roles_and_smoke_test_what_it_deployed(
    tmp_path: Path,
) -> None:
    template = github_template(tmp_path, githubRepo="acme/orders-api")
    role_id, _ = deploy_role(template)

    statements = statements_of(template, role_id)
    assert granted(statements) == [
        "cognito-idp:DescribeUserPoolClient",
        "execute-api:Invoke",
        "ssm:GetParameter",
        "sts:AssumeRole",
        "sts:TagSession",
    ]
    assume = next(s for s in statements if "sts:AssumeRole" in s["Action"])
    roles = json.dumps(assume["Resource"])
    assert len(assume["Resource"]) == 4
    for kind in ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role"):
        assert f":role/cdk-hnb659fds-{kind}-" in roles
    assert "*" not in roles
    invoke = next(s for s in statements if s["Action"] == "execute-api:Invoke")
    assert ":execute-api:" in json.dumps(invoke["Resource"])


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
    assert "role-to-assume: ${{ vars.AWS_DIFF_ROLE_ARN }}" in workflow
    assert "environment: prod" in workflow
    assert "make smoke" in workflow
    assert "make diff" in workflow


def test_the_deploy_jobs_and_their_sessions_outlast_the_slowest_release() -> None:
    # CloudFormation holds `cdk deploy` while CodeDeploy shifts traffic; a job or a session that ends
    # first leaves the release unwatched and the run red.
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    slowest = max(SHIFT_MINUTES[name] for name in DEPLOYMENTS)
    assert set(SHIFT_MINUTES) == set(DEPLOYMENTS)

    for name in ("deploy-dev", "deploy-prod"):
        job = workflow["jobs"][name]
        [credentials] = [
            step for step in job["steps"] if str(step.get("uses", "")).startswith("aws-actions/configure-aws")
        ]
        session = int(credentials["with"]["role-duration-seconds"])
        assert job["timeout-minutes"] >= slowest + 15, name
        assert session >= job["timeout-minutes"] * 60, name
        assert session <= MAX_SESSION.to_seconds(), name
