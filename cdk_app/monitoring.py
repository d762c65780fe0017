"""Alarms on what a user would notice (errors, throttling, slow answers) and where they are sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from orders_api import names

PERIOD: Final = Duration.minutes(5)
# Share of requests answered with 5xx: the 5xx count over the request count.
SERVER_ERROR_RATE_THRESHOLD: Final = 0.05
# Normal answers take a few hundred ms; a p99 above this means the store is slow or calls are retried.
LATENCY_P99_THRESHOLD_MS: Final = 3000


@dataclass(frozen=True)
class AlarmRule:
    """One alarm: its metric (of the function or the API), when it fires, and what it means."""

    construct_id: str
    description: str
    metric: Callable[[lambda_.IFunction, apigwv2.IHttpApi], cloudwatch.IMetric]
    threshold: float
    # One period at or over the threshold fires; a rate or a latency needs 2 of the last 3 over it.
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    comparison: cloudwatch.ComparisonOperator = (
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
    )


def share_of_requests(
    api: apigwv2.IHttpApi, errors: cloudwatch.Metric, period: Duration, label: str, kind: str
) -> cloudwatch.MathExpression:
    """``errors`` (an API's 4xx or 5xx count) as a share of its requests in each period; ``kind``
    (``client``, ``server``) keeps the expression's ids apart from another's in the same graph.

    Computed, not read as the metric's average: HTTP APIs document their 4xx and 5xx metrics as
    counts, and only REST APIs' as a rate under the average statistic.
    """
    return cloudwatch.MathExpression(
        expression=f"IF({kind}Requests > 0, {kind}Errors / {kind}Requests, 0)",
        using_metrics={
            f"{kind}Errors": errors.with_(statistic=cloudwatch.Stats.SUM, period=period),
            f"{kind}Requests": api.metric_count(statistic=cloudwatch.Stats.SUM, period=period),
        },
        period=period,
        label=label,
    )


ALARMS: Final[tuple[AlarmRule, ...]] = (
    AlarmRule(
        "FunctionErrors",
        "The orders function failed (unhandled error or timeout).",
        lambda function, api: function.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
        threshold=1,
    ),
    AlarmRule(
        "FunctionThrottles",
        "Lambda throttled the orders function (concurrency limit reached).",
        lambda function, api: function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
        threshold=1,
    ),
    AlarmRule(
        "UnreadableRequests",
        "A request's checks before routing raised unexpectedly (answered 400, not counted against a "
        "release): a bug to fix, found by a caller's input; the log has its stack trace.",
        lambda function, api: cloudwatch.Metric(
            namespace=names.METRICS_NAMESPACE,
            metric_name=names.UNREADABLE_REQUEST_METRIC,
            dimensions_map={"service": names.SERVICE_NAME},
            statistic=cloudwatch.Stats.SUM,
            period=PERIOD,
        ),
        threshold=1,
    ),
    AlarmRule(
        "Api5xxRate",
        f"More than {SERVER_ERROR_RATE_THRESHOLD:.0%} of API requests got a 5xx answer "
        "in 2 of the last 3 periods.",
        lambda function, api: share_of_requests(
            api, api.metric_server_error(), PERIOD, "5xx share", "server"
        ),
        threshold=SERVER_ERROR_RATE_THRESHOLD,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ),
    AlarmRule(
        "ApiLatencyP99",
        f"The slowest 1% of API requests took over {LATENCY_P99_THRESHOLD_MS} ms in 2 of the last 3 periods.",
        lambda function, api: api.metric_latency(period=PERIOD, statistic=cloudwatch.Stats.percentile(99)),
        threshold=LATENCY_P99_THRESHOLD_MS,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ),
)


class OrdersMonitoring(Construct):
    """The ``ALARMS`` and an encrypted SNS topic they notify, with an e-mail subscription if configured."""

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
                alarm.construct_id,
                alarm_description=alarm.description,
                metric=alarm.metric(function, api),
                threshold=alarm.threshold,
                evaluation_periods=alarm.evaluation_periods,
                datapoints_to_alarm=alarm.datapoints_to_alarm,
                comparison_operator=alarm.comparison,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for alarm in ALARMS
        ]
        action = cloudwatch_actions.SnsAction(self.topic)
        for alarm in self.alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
