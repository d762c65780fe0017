"""Gradual releases: each deploy publishes a version behind the alias ``live``, which the API invokes;
CodeDeploy moves traffic to it as the stage's ``deployment`` setting says (all at once, canary or
linear), after a pre-traffic hook has called the new version with read-only requests, and rolls back
by itself when the hook fails or an alarm on the new version fires during the shift.

The rollback alarms watch the new version alone, per minute, so that they can fire within a canary's
five minutes: its crashes and timeouts (Lambda's ``Errors`` for the alias, by ``ExecutedVersion``),
and its own 500 answers (the function's ``ServerError`` metric, by version), which Lambda counts as
successes. Both need traffic: a version that gets none in the window passes on the hook's verdict.
Alarms on the whole function or API (``monitoring.py``) would mix in the old version's traffic and
the hook's calls, and one already firing would block the release of a fix; they page operators, and
take no part in releases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_app.bundling import build_source_asset
from cdk_app.config import OrdersApiConfig
from cdk_app.function import small_function
from cdk_app.nag import acknowledge
from orders_api import names

HOOK_SOURCE: Final = Path(__file__).resolve().parent / "hooks" / "pre_traffic"
ALIAS_NAME: Final = "live"
HOOK_TIMEOUT: Final = Duration.minutes(4)
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
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        # Copied with modes Lambda can read (whatever the umask of the checkout) and without byte code.
        hook_asset = build_source_asset(HOOK_SOURCE, "pre-traffic-hook")
        self.hook = small_function(
            self,
            "Hook",
            "PreTrafficHook",
            config,
            hook_asset,
            role_description="Orders API pre-traffic hook: invokes the new version, reports to CodeDeploy",
            description="Calls a new orders function version with read-only requests before it gets traffic",
            handler="pre_traffic.handler",
            # Every check at its slowest (hooks/pre_traffic: CHECKS, INVOKE_ALLOWANCE_MS), and the verdict.
            timeout=HOOK_TIMEOUT,
            memory_size=256,
            environment={
                # CodeDeploy updates the hook with the stack, so it names exactly the version to check.
                "TARGET_VERSION_ARN": alias.version.function_arn,
                "API_AUTH": config.api_auth,
                "AWS_ACCOUNT_ID": Aws.ACCOUNT_ID,
            },
        )
        alias.version.grant_invoke(self.hook)
        # The hook must name the new version before CodeDeploy runs it for the alias's update: said
        # outright, beside the reference in the alias's UpdatePolicy.
        alias.node.add_dependency(self.hook)

        self.alarms = new_version_alarms(self, alias)
        for alarm in self.alarms:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))

        self.deployment_group = codedeploy.LambdaDeploymentGroup(
            self,
            "DeploymentGroup",
            alias=alias,
            deployment_config=DEPLOYMENT_CONFIGS[config.deployment],
            pre_hook=self.hook,
            alarms=self.alarms,
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


def new_version_alarms(scope: Construct, alias: lambda_.Alias) -> list[cloudwatch.Alarm]:
    """The alarms that roll a release back: the new version's crashes, and its own 500 answers.

    They keep watching the live version after a release, and notify the alarm topic like the others.
    """
    version = alias.version.version
    function_name = alias.version.lambda_.function_name
    per_minute = Duration.minutes(1)
    crashes = cloudwatch.Metric(
        namespace="AWS/Lambda",
        metric_name="Errors",
        # Invocations through the alias, of the new version: not the old one's, nor the hook's own calls.
        dimensions_map={
            "FunctionName": function_name,
            "Resource": f"{function_name}:{ALIAS_NAME}",
            "ExecutedVersion": version,
        },
        statistic=cloudwatch.Stats.SUM,
        period=per_minute,
    )
    server_errors = cloudwatch.Metric(
        namespace=names.METRICS_NAMESPACE,
        metric_name=names.SERVER_ERROR_METRIC,
        dimensions_map={"service": names.SERVICE_NAME, names.VERSION_DIMENSION: version},
        statistic=cloudwatch.Stats.SUM,
        period=per_minute,
    )
    return [
        cloudwatch.Alarm(
            scope,
            "NewVersionCrashes",
            alarm_description="The live version crashed or timed out (during a release: it is rolled back).",
            metric=crashes,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ),
        cloudwatch.Alarm(
            scope,
            "NewVersionServerErrors",
            alarm_description="The live version answered 500 in 2 of 3 minutes (during a release: it is "
            "rolled back).",
            metric=server_errors,
            threshold=1,
            # One 500 may be a fluke; a broken version keeps failing.
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ),
    ]
