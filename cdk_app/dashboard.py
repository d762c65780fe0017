"""One CloudWatch dashboard per stage: the alarms, then what the API, the function and the store do."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_app.monitoring import share_of_requests
from orders_api.names import METRICS_NAMESPACE, SERVICE_NAME

PERIOD: Final = Duration.minutes(1)
WIDTH: Final = 8  # three graphs a row (the grid is 24 wide)
HEIGHT: Final = 6


class OrdersDashboard(Construct):
    """Alarms, API traffic and errors, latency, cold starts, store failures, throttles and concurrency."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        api: apigwv2.IHttpApi,
        alarms: list[cloudwatch.Alarm],
    ) -> None:
        super().__init__(scope, construct_id)

        def business(name: str, label: str, dimensions: dict[str, str] | None = None) -> cloudwatch.Metric:
            # Powertools' EMF metrics: dimension "service", and for ColdStart also "function_name".
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": SERVICE_NAME, **(dimensions or {})},
                statistic=cloudwatch.Stats.SUM,
                period=PERIOD,
                label=label,
            )

        def graph(title: str, left: list[cloudwatch.IMetric], unit: str = "") -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title,
                left=left,
                width=WIDTH,
                height=HEIGHT,
                left_y_axis=cloudwatch.YAxisProps(label=unit, show_units=False, min=0),
            )

        latency = [
            api.metric_latency(period=PERIOD, statistic=cloudwatch.Stats.percentile(p), label=f"API p{p}")
            for p in (50, 90, 99)
        ]
        duration = [
            function.metric_duration(
                period=PERIOD, statistic=cloudwatch.Stats.percentile(p), label=f"function p{p}"
            )
            for p in (50, 99)
        ]
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=Stack.of(self).stack_name,
            default_interval=Duration.hours(3),
            widgets=[
                [cloudwatch.AlarmStatusWidget(title="Alarms", alarms=alarms, width=24, height=3)],
                [
                    graph("Requests", [api.metric_count(period=PERIOD, label="requests")], "count"),
                    graph(
                        "Error rates",
                        [
                            share_of_requests(api, api.metric_client_error(), PERIOD, "4xx share", "client"),
                            share_of_requests(api, api.metric_server_error(), PERIOD, "5xx share", "server"),
                        ],
                        "share",
                    ),
                    graph("Latency", [*latency, *duration], "ms"),
                ],
                [
                    graph(
                        "Cold starts and store failures",
                        [
                            business("ColdStart", "cold starts", {"function_name": function.function_name}),
                            business("StoreFailure", "store failures"),
                        ],
                        "count",
                    ),
                    graph(
                        "Throttles and errors",
                        [
                            function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                            function.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                        ],
                        "count",
                    ),
                    graph(
                        "Concurrency",
                        [
                            function.metric(
                                "ConcurrentExecutions", period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM
                            )
                        ],
                        "executions",
                    ),
                ],
                [
                    graph(
                        "Orders",
                        [
                            business("OrderCreated", "created"),
                            business("OrderCreateReplayed", "replayed creates"),
                            business("OrderStatusChanged", "status changes"),
                        ],
                        "count",
                    )
                ],
            ],
        )
