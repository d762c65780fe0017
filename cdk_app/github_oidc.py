"""The role GitHub Actions assumes to deploy, through GitHub's OpenID Connect provider: no stored keys.

A stack of its own (``OrdersApiGitHubDeploy``), deployed once per account by someone with admin rights:

    make deploy-github-role GITHUB_REPO=<owner>/<repo>

It trusts only workflow runs of that repository on ``main``, in its ``prod`` environment, or for its
pull requests (for ``cdk diff``), and may do only what the CDK CLI needs with a bootstrapped account:
assume the CDK bootstrap roles (which do the deploying, with the permissions ``cdk bootstrap`` gave
them) and read the bootstrap version. Set its ARN as the repository variable ``AWS_DEPLOY_ROLE_ARN``.
"""

from __future__ import annotations

import re
from typing import Final

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_app.config import ConfigError

GITHUB_ISSUER: Final = "token.actions.githubusercontent.com"
_REPOSITORY: Final = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
# The CDK bootstrap roles: cdk-<qualifier>-<kind>-<account>-<region> (the default qualifier).
CDK_ROLE_PREFIX: Final = "cdk-hnb659fds-"
CDK_ROLES: Final = ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")


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
        subjects = [
            f"repo:{repository}:ref:refs/heads/main",
            f"repo:{repository}:environment:prod",
            f"repo:{repository}:pull_request",
        ]
        self.role = iam.Role(
            self,
            "DeployRole",
            description=f"Assumed by GitHub Actions of {repository} to run the CDK CLI",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.FederatedPrincipal(
                provider_arn,
                conditions={
                    "StringEquals": {f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com"},
                    "StringLike": {f"{GITHUB_ISSUER}:sub": subjects},
                },
                assume_role_action="sts:AssumeRoleWithWebIdentity",
            ),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="UseTheCdkBootstrapRoles",
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[
                    f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{CDK_ROLE_PREFIX}{kind}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
                    for kind in CDK_ROLES
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadTheBootstrapVersion",
                actions=["ssm:GetParameter"],
                resources=[
                    f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:parameter"
                    "/cdk-bootstrap/hnb659fds/version"
                ],
            )
        )
        CfnOutput(self, "DeployRoleArn", value=self.role.role_arn, description="Set as AWS_DEPLOY_ROLE_ARN")
