"""Alarms on what a user would notice (errors, throttling, slow answers) and where they are sent."""

from __future__ import annotations

from typing import Final

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cdk_app.config import OrdersApiConfig

PERIOD: Final = Duration.minutes(5)
# Share of requests answered with 5xx (the 5xx metric is 0 or 1 per request, so its average is a rate).
SERVER_ERROR_RATE_THRESHOLD: Final = 0.05
# Normal answers take a few hundred ms; a p99 above this means the store is slow or calls are retried.
LATENCY_P99_THRESHOLD_MS: Final = 3000


class OrdersMonitoring(Construct):
    """Four alarms and an encrypted SNS topic they notify, with an e-mail subscription if configured."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OrdersApiConfig,
        function: lambda_.IFunction,
        api: apigwv2.IHttpApi,
    ) -> None:
        super().__init__(scope, construct_id)
        # A customer managed key, because CloudWatch cannot publish to a topic under the AWS managed SNS key.
        key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the orders API alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self, "AlarmTopic", display_name="Orders API alarms", master_key=key, enforce_ssl=True
        )
        # The topic policy that enforce_ssl creates replaces the default one, so CloudWatch is let in by name,
        # and only for alarms of this account.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        if config.alarm_email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))

        self.alarms = [
            cloudwatch.Alarm(
                self,
                "FunctionErrors",
                alarm_description="The orders function failed (unhandled error or timeout).",
                metric=function.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "FunctionThrottles",
                alarm_description="Lambda throttled the orders function (concurrency limit reached).",
                metric=function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "Api5xxRate",
                alarm_description=(
                    f"More than {SERVER_ERROR_RATE_THRESHOLD:.0%} of API requests got a 5xx answer "
                    "in 2 of the last 3 periods."
                ),
                metric=api.metric_server_error(period=PERIOD, statistic=cloudwatch.Stats.AVERAGE),
                threshold=SERVER_ERROR_RATE_THRESHOLD,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "ApiLatencyP99",
                alarm_description=(
                    f"The slowest 1% of API requests took over {LATENCY_P99_THRESHOLD_MS} ms "
                    "in 2 of the last 3 periods."
                ),
                metric=api.metric_latency(period=PERIOD, statistic=cloudwatch.Stats.percentile(99)),
                threshold=LATENCY_P99_THRESHOLD_MS,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        action = cloudwatch_actions.SnsAction(self.topic)
        for alarm in self.alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
