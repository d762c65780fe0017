"""The roles GitHub Actions assumes, through GitHub's OpenID Connect provider: no stored keys.

A stack of its own (``OrdersApiGitHubDeploy``), deployed once per account and region by someone with
admin rights:

    make deploy-github-role GITHUB_REPO=<owner>/<repo>

- **The deploy role** (``DeployRoleArn``) trusts only workflow runs of that repository on ``main`` and
  in its ``prod`` environment. It may do what the CDK CLI needs with a bootstrapped account (assume
  the CDK bootstrap roles, which do the deploying with the permissions ``cdk bootstrap`` gave them, and
  read the bootstrap version), and what ``make smoke`` needs afterwards: call the account's HTTP APIs
  (signed, as the default ``apiAuth=iam`` requires) and read a Cognito app client's secret (with
  ``apiAuth=jwt``). Those two add nothing to a role that can already deploy any stack.
- **The diff role** (``DiffRoleArn``) trusts only the repository's pull requests. It may assume the
  read-only lookup role and nothing else, which is all ``cdk diff --no-change-set`` needs: a pull
  request's workflow runs the branch's own code, and must not be able to deploy.

Set the ARNs as the repository variables ``AWS_DEPLOY_ROLE_ARN`` and ``AWS_DIFF_ROLE_ARN``.
"""

from __future__ import annotations

import re
from typing import Final

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_app.config import ConfigError
from cdk_app.nag import acknowledge

GITHUB_ISSUER: Final = "token.actions.githubusercontent.com"
_REPOSITORY: Final = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
# The CDK bootstrap roles: cdk-<qualifier>-<kind>-<account>-<region> (the default qualifier).
CDK_ROLE_PREFIX: Final = "cdk-hnb659fds-"
CDK_ROLES: Final = ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")
# Long enough for the slowest release the stack offers (linear10PercentEvery10Minutes, about 100
# minutes) to finish while the CLI watches it; deploy.yml asks for sessions this long.
MAX_SESSION: Final = Duration.hours(2)


class GitHubDeployStack(Stack):
    """GitHub's OIDC provider (or an existing one) and the deploy role it may assume."""

    def __init__(
        self, scope: Construct, construct_id: str, *, repository: str, existing_provider: bool = False
    ) -> None:
        if not _REPOSITORY.fullmatch(repository):
            raise ConfigError({"githubRepo": f"must be <owner>/<repository>, got {repository!r}"})
        super().__init__(scope, construct_id, description=f"Deploy role for GitHub Actions of {repository}")
        provider_arn = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:oidc-provider/{GITHUB_ISSUER}"
        if not existing_provider:
            provider_arn = iam.OpenIdConnectProvider(
                self, "GitHubProvider", url=f"https://{GITHUB_ISSUER}", client_ids=["sts.amazonaws.com"]
            ).open_id_connect_provider_arn
        self.role = _github_role(
            self,
            "DeployRole",
            provider_arn,
            [f"repo:{repository}:ref:refs/heads/main", f"repo:{repository}:environment:prod"],
            f"Assumed by GitHub Actions of {repository} on main and in prod to deploy with the CDK CLI",
        )
        _may_assume_bootstrap_roles(self.role, CDK_ROLES)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="SmokeTestTheDeployedApi",
                actions=["execute-api:Invoke"],
                resources=[f"arn:{Aws.PARTITION}:execute-api:{Aws.REGION}:{Aws.ACCOUNT_ID}:*/$default/*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="SmokeTestWithTheStacksCognitoClient",
                actions=["cognito-idp:DescribeUserPoolClient"],
                resources=[f"arn:{Aws.PARTITION}:cognito-idp:{Aws.REGION}:{Aws.ACCOUNT_ID}:userpool/*"],
            )
        )
        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:*/$default/*]",
            "make smoke signs its requests to the stage just deployed, whose API id this stack cannot know; "
            "the role can deploy any stack already, so calling the account's APIs adds nothing.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cognito-idp:<AWS::Region>:<AWS::AccountId>:userpool/*]",
            "make smoke --cognito reads the services client's secret of the pool the stack created, whose id "
            "this stack cannot know; the role can deploy any stack already.",
        )

        self.diff_role = _github_role(
            self,
            "DiffRole",
            provider_arn,
            [f"repo:{repository}:pull_request"],
            f"Assumed by GitHub Actions of {repository} for pull requests: cdk diff, read only",
        )
        _may_assume_bootstrap_roles(self.diff_role, ("lookup-role",))

        CfnOutput(self, "DeployRoleArn", value=self.role.role_arn, description="Set as AWS_DEPLOY_ROLE_ARN")
        CfnOutput(self, "DiffRoleArn", value=self.diff_role.role_arn, description="Set as AWS_DIFF_ROLE_ARN")


def _github_role(
    scope: Construct, construct_id: str, provider_arn: str, subjects: list[str], description: str
) -> iam.Role:
    """A role that GitHub's OIDC tokens with one of ``subjects`` may assume."""
    return iam.Role(
        scope,
        construct_id,
        description=description,
        max_session_duration=MAX_SESSION,
        assumed_by=iam.FederatedPrincipal(
            provider_arn,
            conditions={
                "StringEquals": {f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com"},
                "StringLike": {f"{GITHUB_ISSUER}:sub": subjects},
            },
            assume_role_action="sts:AssumeRoleWithWebIdentity",
        ),
    )


def _may_assume_bootstrap_roles(role: iam.Role, kinds: tuple[str, ...]) -> None:
    """``role`` may assume these CDK bootstrap roles of its account and region, and read the bootstrap
    version, and nothing else of the CDK's."""
    role.add_to_policy(
        iam.PolicyStatement(
            sid="UseTheCdkBootstrapRoles",
            actions=["sts:AssumeRole", "sts:TagSession"],
            resources=[
                f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{CDK_ROLE_PREFIX}{kind}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
                for kind in kinds
            ],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ReadTheBootstrapVersion",
            actions=["ssm:GetParameter"],
            resources=[
                f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:parameter"
                "/cdk-bootstrap/hnb659fds/version"
            ],
        )
    )
