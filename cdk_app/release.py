"""Gradual releases: each deploy publishes a version behind the alias ``live``, which the API invokes;
CodeDeploy moves traffic to it as the stage's ``deployment`` setting says (all at once, canary or
linear), after a pre-traffic hook has called the new version with read-only requests, and rolls back
by itself when the hook fails or an alarm fires during the shift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import AssetHashType, Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_app.bundling import build_source_asset
from cdk_app.config import OrdersApiConfig
from cdk_app.function import ARCHITECTURE, RUNTIME, log_group_and_role
from cdk_app.nag import acknowledge

HOOK_SOURCE: Final = Path(__file__).resolve().parent / "hooks" / "pre_traffic"
ALIAS_NAME: Final = "live"
DEPLOYMENT_CONFIGS: Final = {
    "allAtOnce": codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
    "canary10Percent5Minutes": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    "canary10Percent10Minutes": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_10_MINUTES,
    "canary10Percent30Minutes": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_30_MINUTES,
    "linear10PercentEvery1Minute": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
    "linear10PercentEvery3Minutes": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_3_MINUTES,
    "linear10PercentEvery10Minutes": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_10_MINUTES,
}
# How long each keeps a deploy waiting while traffic moves, at most, in minutes (the deploy workflow's
# timeouts and the GitHub deploy role's sessions must outlast the slowest).
SHIFT_MINUTES: Final = {
    "allAtOnce": 0,
    "canary10Percent5Minutes": 5,
    "canary10Percent10Minutes": 10,
    "canary10Percent30Minutes": 30,
    "linear10PercentEvery1Minute": 10,
    "linear10PercentEvery3Minutes": 30,
    "linear10PercentEvery10Minutes": 100,
}


def live_alias(scope: Construct, function: lambda_.Function) -> lambda_.Alias:
    """The alias every caller goes through; each deploy points it at a newly published version."""
    return lambda_.Alias(scope, "LiveAlias", alias_name=ALIAS_NAME, version=function.current_version)


class OrdersRelease(Construct):
    """The deployment group that shifts the alias to each new version, with its hook and its alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OrdersApiConfig,
        alias: lambda_.Alias,
        alarms: list[cloudwatch.IAlarm],
    ) -> None:
        super().__init__(scope, construct_id)
        # Copied with modes Lambda can read (whatever the umask of the checkout) and without byte code.
        hook_asset = build_source_asset(HOOK_SOURCE, "pre-traffic-hook")
        log_group, role = log_group_and_role(
            self,
            "Hook",
            config,
            "Orders API pre-traffic hook: invokes the new version, reports to CodeDeploy",
        )
        self.hook = lambda_.Function(
            self,
            "PreTrafficHook",
            description="Calls a new orders function version with read-only requests before it gets traffic",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="pre_traffic.handler",
            code=lambda_.Code.from_asset(
                str(hook_asset.path), asset_hash=hook_asset.asset_hash, asset_hash_type=AssetHashType.CUSTOM
            ),
            timeout=Duration.minutes(2),
            memory_size=256,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={
                # CodeDeploy updates the hook with the stack, so it names exactly the version to check.
                "TARGET_VERSION_ARN": alias.version.function_arn,
                "API_AUTH": config.api_auth,
                "AWS_ACCOUNT_ID": Aws.ACCOUNT_ID,
            },
        )
        alias.version.grant_invoke(self.hook)

        self.deployment_group = codedeploy.LambdaDeploymentGroup(
            self,
            "DeploymentGroup",
            alias=alias,
            deployment_config=DEPLOYMENT_CONFIGS[config.deployment],
            pre_hook=self.hook,
            alarms=alarms,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
        )
        service_role = self.deployment_group.role
        acknowledge(
            service_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSCodeDeployRoleForLambdaLimited]",
            "The managed policy AWS maintains for CodeDeploy's Lambda deployments, in its limited form: "
            "read alarms, move the alias, invoke CodeDeployHook_* functions.",
        )
        hook_id = Stack.of(self).get_logical_id(self.hook.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            service_role,
            f"AwsSolutions-IAM5[Resource::<{hook_id}.Arn>:*]",
            "CodeDeploy invokes the hook function with a version qualifier: <hook ARN>:*, this hook only.",
        )
