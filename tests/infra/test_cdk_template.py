"""The stack as `make synth` builds it: every property a deployer or an auditor would look for."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from cdk_app.api import ACCESS_LOG_FORMAT
from cdk_app.function import TIMEOUT as ORDERS_TIMEOUT
from cdk_app.release import SHIFT_MINUTES
from tests.infra.synthesis import Synthesized, actions, load_pre_traffic_hook

pytestmark = pytest.mark.infra

EXPECTED_ROUTES = {
    "POST /orders",
    "GET /orders",
    "GET /orders/{orderId}",
    "PATCH /orders/{orderId}",
    "DELETE /orders/{orderId}",
    "GET /openapi.json",
}


def test_function_runs_the_newest_python_on_arm64_with_active_tracing(default_stack: Synthesized) -> None:
    _, function = default_stack.orders_function()
    properties = function["Properties"]

    assert properties["Runtime"] == "python3.14"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Handler"] == "orders_api.handler.lambda_handler"
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["MemorySize"] == 512
    # Below the HTTP API's 30 s integration timeout.
    assert properties["Timeout"] == 28


def test_the_secrets_extension_layer_is_the_arm64_one_for_the_stacks_region(
    default_stack: Synthesized,
) -> None:
    _, function = default_stack.orders_function()
    (layer,) = function["Properties"]["Layers"]
    mapping_name, _, key = layer["Fn::FindInMap"][0], layer["Fn::FindInMap"][1], layer["Fn::FindInMap"][2]
    arns = default_stack.template.to_json()["Mappings"][mapping_name]
    assert all("AWS-Parameters-and-Secrets-Lambda-Extension-Arm64" in row[key] for row in arns.values())


def test_function_logs_json_to_its_own_log_group_kept_30_days(default_stack: Synthesized) -> None:
    _, function = default_stack.orders_function()
    logging = function["Properties"]["LoggingConfig"]

    assert logging["LogFormat"] == "JSON"
    assert logging["ApplicationLogLevel"] == "INFO"
    # The platform's REPORT line (duration, memory, Init Duration) is logged at INFO
    assert logging["SystemLogLevel"] == "INFO"
    log_group = default_stack.resources("AWS::Logs::LogGroup")[logging["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_environment_points_at_the_secret_and_never_holds_a_token(default_stack: Synthesized) -> None:
    _, function = default_stack.orders_function()
    secret_ref = default_stack.ref(default_stack.stack.store_secret.secret.secret_arn)
    cursor_key_ref = default_stack.ref(default_stack.stack.cursor_key.secret.secret_arn)
    secret = default_stack.resources("AWS::SecretsManager::Secret")[secret_ref["Ref"]]
    environment = function["Properties"]["Environment"]["Variables"]

    assert environment == {
        "POWERTOOLS_SERVICE_NAME": "orders",
        "POWERTOOLS_METRICS_NAMESPACE": "OrdersApi",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "ORDERS_STORE_API": "data",
        "ORDERS_API_AUTH": "iam",
        "STORE_URL": "https://DATABASE_ID-REGION.apps.astra.datastax.com/api/json",
        "STORE_NAMESPACE": "default_keyspace",
        "STORE_COLLECTION": "orders",
        "STORE_SECRET_ID": secret_ref,
        "SECRET_MAX_AGE_SECONDS": "300",
        "CURSOR_SECRET_ID": cursor_key_ref,
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
        # The Parameters and Secrets extension: where it listens, and its cache age equal to the function's
        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "2773",
        "SECRETS_MANAGER_TTL": "300",
        "PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED": "true",
        "PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE": "10",
        "PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL": "warn",
        "PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS": environment[
            "PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS"
        ],
        "SECRETS_MANAGER_TIMEOUT_MILLIS": environment["SECRETS_MANAGER_TIMEOUT_MILLIS"],
        "SSM_PARAMETER_STORE_TTL": environment["SSM_PARAMETER_STORE_TTL"],
        "SSM_PARAMETER_STORE_TIMEOUT_MILLIS": environment["SSM_PARAMETER_STORE_TIMEOUT_MILLIS"],
    }
    # The token outlives `cdk destroy` unless retainSecret=false
    assert (secret["DeletionPolicy"], secret["UpdateReplacePolicy"]) == ("Retain", "Retain")
    # The secret starts with a generated placeholder; no value is written into the template.
    assert "GenerateSecretString" in secret["Properties"]
    assert "SecretString" not in secret["Properties"]
    template_text = json.dumps(default_stack.template.to_json())
    assert "resolve:secretsmanager" not in template_text
    assert "AstraCS:" not in template_text


def test_function_may_read_only_its_own_two_secrets(default_stack: Synthesized) -> None:
    secret_ids = set(default_stack.resources("AWS::SecretsManager::Secret"))
    secret_statements = [
        statement
        for statement in default_stack.statements()
        if any(action.startswith("secretsmanager:") for action in actions(statement))
    ]

    read_only = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert all(sorted(actions(statement)) == read_only for statement in secret_statements)
    assert sorted(ref["Ref"] for ref in default_stack.secrets_readable()) == sorted(secret_ids)
    assert {
        default_stack.ref(default_stack.stack.store_secret.secret.secret_arn)["Ref"],
        default_stack.ref(default_stack.stack.cursor_key.secret.secret_arn)["Ref"],
    } == secret_ids


def test_the_cursor_key_is_generated_and_never_written_into_the_template(default_stack: Synthesized) -> None:
    key_ref = default_stack.ref(default_stack.stack.cursor_key.secret.secret_arn)
    key = default_stack.resources("AWS::SecretsManager::Secret")[key_ref["Ref"]]

    assert key["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    assert "SecretString" not in key["Properties"]


def test_function_role_writes_only_to_its_log_group(default_stack: Synthesized) -> None:
    role_id, role = default_stack.function_role()
    _, function = default_stack.orders_function()
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    statements = default_stack.statements(role_id)
    log_statements = [s for s in statements if any(a.startswith("logs:") for a in actions(s))]

    assert "ManagedPolicyArns" not in role["Properties"]
    assert log_statements == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
        }
    ]
    # The only wildcard resource is X-Ray's, which has no resource-level permissions.
    wildcard_actions = {a for s in statements if s["Resource"] == "*" for a in actions(s)}
    assert wildcard_actions == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_every_route_requires_sigv4_and_reaches_the_function(default_stack: Synthesized) -> None:
    routes = default_stack.resources("AWS::ApiGatewayV2::Route").values()
    integration_id, integration = default_stack.only("AWS::ApiGatewayV2::Integration")

    assert {route["Properties"]["RouteKey"] for route in routes} == EXPECTED_ROUTES
    assert {route["Properties"]["AuthorizationType"] for route in routes} == {"AWS_IAM"}
    assert {json.dumps(route["Properties"]["Target"]) for route in routes} == {
        json.dumps({"Fn::Join": ["", ["integrations/", {"Ref": integration_id}]]})
    }
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"


def test_stage_throttles_and_writes_json_access_logs(default_stack: Synthesized) -> None:
    _, stage = default_stack.only("AWS::ApiGatewayV2::Stage")
    properties = stage["Properties"]

    assert properties["StageName"] == "$default"
    assert properties["AutoDeploy"] is True
    assert properties["DefaultRouteSettings"] == {"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100}
    destination = properties["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    access_log_group = default_stack.resources("AWS::Logs::LogGroup")[destination]
    assert access_log_group["Properties"]["RetentionInDays"] == 30
    # vended-logs path: no growth of the account's CloudWatch Logs resource policy
    assert (
        access_log_group["Properties"]["LogGroupName"]
        == "/aws/vendedlogs/apigateway/OrdersApi-dev/access-logs"
    )
    assert json.loads(properties["AccessLogSettings"]["Format"]) == ACCESS_LOG_FORMAT


def test_cors_is_off_unless_configured(default_stack: Synthesized) -> None:
    _, api = default_stack.only("AWS::ApiGatewayV2::Api")

    assert api["Properties"]["ProtocolType"] == "HTTP"
    assert "CorsConfiguration" not in api["Properties"]


def test_alarms_cover_errors_throttles_5xx_rate_p99_latency_and_the_new_versions_failures(
    default_stack: Synthesized,
) -> None:
    topic_id, _ = default_stack.only("AWS::SNS::Topic")
    alarms = default_stack.resources("AWS::CloudWatch::Alarm").values()

    watched = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"], a["Properties"].get("Statistic"))
        for a in alarms
        if "MetricName" in a["Properties"]
    }
    assert watched == {
        ("AWS/Lambda", "Errors", "Sum"),
        ("AWS/Lambda", "Throttles", "Sum"),
        ("AWS/ApiGateway", "Latency", None),
        ("OrdersApi", "ServerError", "Sum"),
        # Requests whose checks before routing raised: answered 400, told to operators, never a rollback.
        ("OrdersApi", "UnreadableRequest", "Sum"),
    }
    # The 5xx share is computed from the two counts: HTTP APIs document 5xx as a count, not a rate.
    [share] = [a["Properties"] for a in alarms if "Metrics" in a["Properties"]]
    [expression] = [m for m in share["Metrics"] if "Expression" in m]
    counted = {
        m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]["Stat"]
        for m in share["Metrics"]
        if "MetricStat" in m
    }
    assert counted == {"5xx": "Sum", "Count": "Sum"}
    assert expression["Expression"] == "IF(serverRequests > 0, serverErrors / serverRequests, 0)"
    assert share["Threshold"] == 0.05
    latency = next(a for a in alarms if a["Properties"].get("MetricName") == "Latency")
    assert latency["Properties"]["ExtendedStatistic"] == "p99"
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        # The operators' alarms also say when all is well again; a release's say only that it failed.
        if alarm["Properties"].get("MetricName") != "ServerError" and "ExecutedVersion" not in json.dumps(
            alarm
        ):
            assert alarm["Properties"]["OKActions"] == [{"Ref": topic_id}]


def test_alarm_topic_is_encrypted_ssl_only_and_has_no_subscriber_by_default(
    default_stack: Synthesized,
) -> None:
    _, topic = default_stack.only("AWS::SNS::Topic")
    key_id, key = default_stack.only("AWS::KMS::Key")
    _, topic_policy = default_stack.only("AWS::SNS::TopicPolicy")

    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = topic_policy["Properties"]["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert [(s["Action"], s["Principal"], s["Condition"]) for s in deny] == [
        ("sns:Publish", "*", {"Bool": {"aws:SecureTransport": "false"}})
    ]
    assert default_stack.resources("AWS::SNS::Subscription") == {}


def test_outputs_have_stable_ids(default_stack: Synthesized) -> None:
    outputs = default_stack.template.find_outputs("*")
    api_id, _ = default_stack.only("AWS::ApiGatewayV2::Api")

    assert set(outputs) == {"ApiUrl", "SecretArn", "AlarmTopicArn"}
    assert {"Ref": api_id} in outputs["ApiUrl"]["Value"]["Fn::Join"][1]
    assert outputs["SecretArn"]["Value"] == default_stack.ref(
        default_stack.stack.store_secret.secret.secret_arn
    )


def test_placeholder_store_url_is_warned_about(default_stack: Synthesized) -> None:
    Annotations.from_stack(default_stack.stack).has_warning(
        "/OrdersApi", Match.string_like_regexp("storeUrl is still the placeholder")
    )


def test_a_dashboard_shows_the_alarms_traffic_latency_cold_starts_store_failures_and_concurrency(
    default_stack: Synthesized,
) -> None:
    _, dashboard = default_stack.only("AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])

    assert dashboard["Properties"]["DashboardName"] == "OrdersApi-dev"
    for alarm_id in default_stack.resources("AWS::CloudWatch::Alarm"):
        assert alarm_id in body  # the alarm status widget lists every alarm
    for metric in ("Count", "4xx", "5xx", "Latency", "Duration", "ColdStart", "StoreFailure"):
        assert f'\\"{metric}\\"' in body, metric
    for metric in ("Throttles", "ConcurrentExecutions", "OrderCreated"):
        assert f'\\"{metric}\\"' in body, metric
    assert "p99" in body
    assert '\\"OrdersApi\\"' in body  # the EMF namespace the function writes to


# --- gradual releases ------------------------------------------------------------------------------------


def test_the_api_invokes_the_live_alias_which_codedeploy_moves_to_each_new_version(
    default_stack: Synthesized,
) -> None:
    alias_id, alias = default_stack.only("AWS::Lambda::Alias")
    version_id, _ = default_stack.only("AWS::Lambda::Version")
    _, integration = default_stack.only("AWS::ApiGatewayV2::Integration")

    assert alias["Properties"]["Name"] == "live"
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    assert integration["Properties"]["IntegrationUri"] == {"Ref": alias_id}
    hooks = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    hook_id, hook = next(
        (key, value)
        for key, value in default_stack.resources("AWS::Lambda::Function").items()
        if value["Properties"]["Handler"] == "pre_traffic.handler"
    )
    assert hooks["BeforeAllowTrafficHook"] == {"Ref": hook_id}
    assert hook_id in alias["DependsOn"]  # updated, with the new version's ARN, before the alias moves
    assert hook["Properties"]["Environment"]["Variables"]["TARGET_VERSION_ARN"] == {"Ref": version_id}


def test_dev_shifts_all_at_once_and_rolls_back_on_the_new_versions_alarms(default_stack: Synthesized) -> None:
    _, group = default_stack.only("AWS::CodeDeploy::DeploymentGroup")
    properties = group["Properties"]

    assert properties["DeploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce"
    assert properties["AutoRollbackConfiguration"] == {
        "Enabled": True,
        "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    assert properties["AlarmConfiguration"]["Enabled"] is True
    assert {metric for metric, _ in rollback_alarms(default_stack)} == {"Errors", "ServerError"}


def rollback_alarms(stack: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    """The metric name and properties of each alarm the deployment group rolls back on."""
    _, group = stack.only("AWS::CodeDeploy::DeploymentGroup")
    alarms = stack.resources("AWS::CloudWatch::Alarm")
    watched = [
        alarms[alarm["Name"]["Ref"]]["Properties"]
        for alarm in group["Properties"]["AlarmConfiguration"]["Alarms"]
    ]
    return [(alarm["MetricName"], alarm) for alarm in watched]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_rollback_alarms_watch_only_the_new_version_and_can_fire_within_a_canary(
    synth: Callable[..., Synthesized], stage: str
) -> None:
    # Given the stage's stack: the version a deploy publishes, and its release's alarms (source only: prod
    # would otherwise require a CPython 3.14 on this host to compile the byte code)
    stack = synth(stage=stage, byteCode="optional")
    version_id, _ = stack.only("AWS::Lambda::Version")
    function_id, _ = stack.orders_function()
    new_version = {"Fn::GetAtt": [version_id, "Version"]}
    canary_seconds = SHIFT_MINUTES["canary10Percent5Minutes"] * 60

    for metric, alarm in rollback_alarms(stack):
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        # Then each counts the new version alone, not the old one's traffic
        if metric == "Errors":
            # Lambda publishes the three together for calls through the alias (not the hook's direct ones)
            assert alarm["Namespace"] == "AWS/Lambda"
            assert dimensions == {
                "FunctionName": {"Ref": function_id},
                "Resource": {"Fn::Join": ["", [{"Ref": function_id}, ":live"]]},
                "ExecutedVersion": new_version,
            }
        else:
            assert (alarm["Namespace"], metric) == ("OrdersApi", "ServerError")
            assert dimensions == {"service": "orders", "version": new_version}
        # And it can fire before a five-minute canary has moved the rest of the traffic
        assert alarm["Period"] * alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"]) < canary_seconds
        assert alarm["TreatMissingData"] == "notBreaching"


def test_the_hook_has_time_for_every_check_at_its_slowest(default_stack: Synthesized) -> None:
    hook = next(
        value["Properties"]
        for value in default_stack.resources("AWS::Lambda::Function").values()
        if value["Properties"]["Handler"] == "pre_traffic.handler"
    )
    pre_traffic = load_pre_traffic_hook()

    assert (ORDERS_TIMEOUT.to_seconds() + 10) * 1000 <= pre_traffic.INVOKE_ALLOWANCE_MS
    slowest = len(pre_traffic.CHECKS) * pre_traffic.INVOKE_ALLOWANCE_MS / 1000
    assert hook["Timeout"] >= slowest + 30


def test_the_hook_may_invoke_only_the_new_version(default_stack: Synthesized) -> None:
    hook_role_id = next(
        value["Properties"]["Role"]["Fn::GetAtt"][0]
        for value in default_stack.resources("AWS::Lambda::Function").values()
        if value["Properties"]["Handler"] == "pre_traffic.handler"
    )
    version_id, _ = default_stack.only("AWS::Lambda::Version")

    invokes = [s for s in default_stack.statements(hook_role_id) if "lambda:InvokeFunction" in actions(s)]
    assert [s["Resource"] for s in invokes] == [{"Ref": version_id}]
