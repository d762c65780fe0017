"""The stack under the non-default settings a deployer can pass with ``-c key=value``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infra.synthesis import Synthesized, actions

pytestmark = pytest.mark.infra

SynthFactory = Callable[..., Synthesized]
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders/astra-token-AbC123"


def _secret_resources(synthesized: Synthesized) -> list[Any]:
    """What the function may read besides the cursor key the stack always creates."""
    cursor_key = synthesized.ref(synthesized.stack.cursor_key.secret.secret_arn)
    return [resource for resource in synthesized.secrets_readable() if resource != cursor_key]


def _created_secrets(synthesized: Synthesized) -> set[str]:
    return set(synthesized.resources("AWS::SecretsManager::Secret"))


def test_auth_none_opens_every_route_and_warns(synth: SynthFactory) -> None:
    stack = synth(apiAuth="none")

    routes = stack.resources("AWS::ApiGatewayV2::Route").values()
    assert {route["Properties"]["AuthorizationType"] for route in routes} == {"NONE"}
    Annotations.from_stack(stack.stack).has_warning(
        "/OrdersApi/Api", Match.string_like_regexp("apiAuth is 'none'")
    )


def test_retain_secret_false_deletes_the_token_secret_with_the_stack(synth: SynthFactory) -> None:
    stack = synth(retainSecret="false")

    store_secret = stack.ref(stack.stack.store_secret.secret.secret_arn)["Ref"]
    assert stack.resources("AWS::SecretsManager::Secret")[store_secret]["DeletionPolicy"] == "Delete"


def test_existing_secret_by_complete_arn_is_used_and_nothing_is_created(synth: SynthFactory) -> None:
    stack = synth(existingSecret=SECRET_ARN)

    # Only the cursor key is created; the store secret is the given one
    assert _created_secrets(stack) == {stack.ref(stack.stack.cursor_key.secret.secret_arn)["Ref"]}
    assert stack.function_environment()["STORE_SECRET_ID"] == SECRET_ARN
    assert _secret_resources(stack) == [SECRET_ARN]


def test_existing_secret_by_name_is_read_by_its_name_and_granted_with_its_suffix(synth: SynthFactory) -> None:
    stack = synth(existingSecret="orders/astra-token")

    # Only the cursor key is created; the function reads the secret by its exact name
    assert _created_secrets(stack) == {stack.ref(stack.stack.cursor_key.secret.secret_arn)["Ref"]}
    assert stack.function_environment()["STORE_SECRET_ID"] == "orders/astra-token"
    [resource] = _secret_resources(stack)
    # Secrets Manager adds six random characters to the name; the grant allows exactly those.
    assert resource["Fn::Join"][1][-1].endswith(":secret:orders/astra-token-??????")


KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize("existing", ["orders/astra-token", SECRET_ARN])
def test_a_secret_under_a_customer_key_may_be_decrypted_through_secrets_manager_only(
    synth: SynthFactory, existing: str
) -> None:
    stack = synth(existingSecret=existing, existingSecretKmsKey=KEY_ARN)

    decrypts = [s for s in stack.statements() if "kms:Decrypt" in actions(s)]
    assert len(decrypts) == 1
    assert decrypts[0]["Resource"] == KEY_ARN
    assert decrypts[0]["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Join": ["", ["secretsmanager.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
    }


def test_no_kms_permission_without_a_customer_key(synth: SynthFactory) -> None:
    stack = synth(existingSecret=SECRET_ARN)

    assert not [s for s in stack.statements() if any(a.startswith("kms:") for a in actions(s))]


def test_alarm_email_subscribes_to_the_topic(synth: SynthFactory) -> None:
    stack = synth(alarmEmail="oncall@example.com")

    topic_id, _ = stack.only("AWS::SNS::Topic")
    _, subscription = stack.only("AWS::SNS::Subscription")
    assert subscription["Properties"] == {
        "Protocol": "email",
        "Endpoint": "oncall@example.com",
        "TopicArn": {"Ref": topic_id},
    }


def test_cors_origins_from_the_command_line_are_allowed(synth: SynthFactory) -> None:
    stack = synth(corsAllowOrigins="https://shop.example.com, https://admin.example.com")

    _, api = stack.only("AWS::ApiGatewayV2::Api")
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["https://shop.example.com", "https://admin.example.com"]
    assert set(cors["AllowMethods"]) == {"GET", "POST", "PATCH", "DELETE"}


# The Parameters and Secrets extension's own settings (checked in test_cdk_template.py).
EXTENSION_SETTINGS = ("PARAMETERS_SECRETS_EXTENSION_", "SECRETS_MANAGER_", "SSM_PARAMETER_STORE_")


def test_sizes_limits_and_store_settings_given_as_strings_reach_the_template(synth: SynthFactory) -> None:
    stack = synth(
        memorySize="1024",
        throttleRateLimit="10",
        throttleBurstLimit="20",
        logRetentionDays="90",
        logLevel="debug",
        storeApi="documents",
        storeUrl="http://stargate.internal:8082/api/rest/",
        storeAuthUrl="https://auth.example.com",
        storeNamespace="shop",
        storeCollection="orders_v2",
    )

    _, function = stack.orders_function()
    _, stage = stack.only("AWS::ApiGatewayV2::Stage")
    assert function["Properties"]["MemorySize"] == 1024
    assert function["Properties"]["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG"
    assert stage["Properties"]["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": 10,
        "ThrottlingBurstLimit": 20,
    }
    assert {g["Properties"]["RetentionInDays"] for g in stack.resources("AWS::Logs::LogGroup").values()} == {
        90
    }
    environment = stack.function_environment()
    own = {key: environment[key] for key in environment if not key.startswith(EXTENSION_SETTINGS)}
    assert {key: own[key] for key in own if not key.endswith("SECRET_ID")} == {
        "POWERTOOLS_SERVICE_NAME": "orders",
        "POWERTOOLS_METRICS_NAMESPACE": "OrdersApi",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "ORDERS_STORE_API": "documents",
        "ORDERS_API_AUTH": "iam",
        "STORE_URL": "http://stargate.internal:8082/api/rest",
        "STORE_AUTH_URL": "https://auth.example.com",
        "STORE_NAMESPACE": "shop",
        "STORE_COLLECTION": "orders_v2",
        "SECRET_MAX_AGE_SECONDS": "300",
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }
    # A real URL that fits the store API: nothing to warn about.
    Annotations.from_stack(stack.stack).has_no_warning("*", Match.any_value())


def test_the_document_api_store_runs_one_writer_by_default_and_the_data_api_store_is_unreserved(
    synth: SynthFactory,
) -> None:
    documents = synth(storeApi="documents", storeUrl="http://stargate.internal:8082")
    data = synth()

    assert documents.orders_function()[1]["Properties"]["ReservedConcurrentExecutions"] == 1
    assert "ReservedConcurrentExecutions" not in data.orders_function()[1]["Properties"]
    Annotations.from_stack(documents.stack).has_no_warning("*", Match.any_value())


@pytest.mark.parametrize(("setting", "reserved"), [("4", 4), ("0", None)])
def test_more_document_api_writers_are_allowed_only_with_a_warning_naming_the_anomalies(
    synth: SynthFactory, setting: str, reserved: int | None
) -> None:
    stack = synth(
        storeApi="documents", storeUrl="http://stargate.internal:8082", documentStoreConcurrency=setting
    )

    assert stack.orders_function()[1]["Properties"].get("ReservedConcurrentExecutions") == reserved
    Annotations.from_stack(stack.stack).has_warning(
        "/OrdersApi",
        Match.string_like_regexp("documentStoreConcurrency=.*both succeed.*docs/stores/document-api.md"),
    )


def test_a_document_api_url_with_the_data_api_is_warned_about(synth: SynthFactory) -> None:
    stack = synth(storeUrl="https://abc-eu-west-1.apps.astra.datastax.com/api/rest")

    Annotations.from_stack(stack.stack).has_warning(
        "/OrdersApi", Match.string_like_regexp("ends in /api/rest.*storeApi is data")
    )


def test_tracing_off_turns_off_xray_and_the_function_s_tracer(synth: SynthFactory) -> None:
    stack = synth(tracing="false")

    _, function = stack.orders_function()
    assert function["Properties"].get("TracingConfig", {"Mode": "PassThrough"}) == {"Mode": "PassThrough"}
    assert stack.function_environment()["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert not [a for s in stack.statements() for a in actions(s) if a.startswith("xray:")]
    assert not [s for s in stack.statements() if s["Resource"] == "*"]


def test_the_default_stage_is_dev_and_names_the_stack(synth: SynthFactory) -> None:
    stack = synth()

    assert stack.stack.stack_name == "OrdersApi-dev"
    assert stack.stack.config.stage == "dev"


# prod requires the function's byte code, which needs a CPython 3.14 this host may not have: the template
# tests of prod ship source only (test_function_asset.py covers the requirement itself).
PROD = {"stage": "prod", "byteCode": "optional"}


def test_a_stage_deploys_as_its_own_stack_with_its_own_settings(synth: SynthFactory) -> None:
    # Given the stage prod, whose block in cdk.json raises memory, log retention and throttling
    prod = synth(**PROD)

    # Then it is a stack of its own, named and tagged for the stage, with those settings
    assert prod.stack.stack_name == "OrdersApi-prod"
    _, function = prod.orders_function()
    assert function["Properties"]["MemorySize"] == 1024
    assert {"Key": "orders:stage", "Value": "prod"} in function["Properties"]["Tags"]
    log_groups = prod.resources("AWS::Logs::LogGroup").values()
    assert {group["Properties"]["RetentionInDays"] for group in log_groups} == {90}
    names = {group["Properties"].get("LogGroupName") for group in log_groups}
    assert "/aws/vendedlogs/apigateway/OrdersApi-prod/access-logs" in names


def test_a_stage_without_a_block_takes_the_top_level_settings(synth: SynthFactory) -> None:
    staging = synth(stage="staging", memorySize="768")

    assert staging.stack.stack_name == "OrdersApi-staging"
    _, function = staging.orders_function()
    assert function["Properties"]["MemorySize"] == 768


def test_prod_releases_as_a_canary(synth: SynthFactory) -> None:
    _, group = synth(**PROD).only("AWS::CodeDeploy::DeploymentGroup")

    assert group["Properties"]["DeploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"


def test_any_stage_can_choose_how_traffic_moves(synth: SynthFactory) -> None:
    _, group = synth(deployment="linear10PercentEvery1Minute").only("AWS::CodeDeploy::DeploymentGroup")

    assert (
        group["Properties"]["DeploymentConfigName"] == "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
    )


def test_snapstart_restores_published_versions_when_asked(synth: SynthFactory) -> None:
    _, plain = synth().orders_function()
    _, snapped = synth(snapStart="true").orders_function()

    assert "SnapStart" not in plain["Properties"]
    assert snapped["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}


def test_with_snapstart_the_function_has_no_secrets_extension_it_could_not_ask(synth: SynthFactory) -> None:
    # The extension takes only AWS_SESSION_TOKEN, which Lambda does not set under SnapStart.
    _, plain = synth().orders_function()
    stack = synth(snapStart="true")
    _, snapped = stack.orders_function()

    assert len(plain["Properties"]["Layers"]) == 1
    assert "Layers" not in snapped["Properties"]
    assert not [name for name in stack.function_environment() if name.startswith(EXTENSION_SETTINGS)]


def test_for_a_region_the_template_names_the_extensions_layer_published_there(synth: SynthFactory) -> None:
    stack = synth(region="eu-west-1")
    _, function = stack.orders_function()

    [layer] = function["Properties"]["Layers"]
    assert str(layer).startswith("arn:aws:lambda:eu-west-1:")
    assert ":layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:" in layer
    assert stack.function_environment()["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"] == "2773"
    assert "Mappings" not in stack.template.to_json()


def test_where_aws_publishes_no_arm64_extension_the_function_goes_without_it(synth: SynthFactory) -> None:
    # Zurich has no arm64 layer of the extension: a template naming one would fail in CloudFormation.
    stack = synth(region="eu-central-2")
    _, function = stack.orders_function()

    assert "Layers" not in function["Properties"]
    assert not [name for name in stack.function_environment() if name.startswith(EXTENSION_SETTINGS)]
    assert "Mappings" not in stack.template.to_json()
    # It still may read its secrets, now from Secrets Manager itself.
    assert "secretsmanager:GetSecretValue" in json.dumps(stack.resources("AWS::IAM::Policy"))


def test_admin_principals_reach_the_function(synth: SynthFactory) -> None:
    admins = "arn:aws:iam::123456789012:role/operator,arn:aws:iam::123456789012:user/jane"

    environment = synth(adminPrincipals=admins).function_environment()

    assert environment["ADMIN_PRINCIPALS"] == admins
    assert "ADMIN_PRINCIPALS" not in synth().function_environment()


# --- apiAuth=jwt ---------------------------------------------------------------------------------------


def test_jwt_auth_creates_a_user_pool_with_order_scopes_and_three_clients(synth: SynthFactory) -> None:
    stack = synth(apiAuth="jwt")

    [server] = stack.resources("AWS::Cognito::UserPoolResourceServer").values()
    assert server["Properties"]["Identifier"] == "orders"
    assert {s["ScopeName"] for s in server["Properties"]["Scopes"]} == {"read", "write", "admin"}
    clients = [c["Properties"] for c in stack.resources("AWS::Cognito::UserPoolClient").values()]
    flows = sorted(tuple(c["AllowedOAuthFlows"]) for c in clients)
    assert flows == [("client_credentials",), ("client_credentials",), ("code",)]
    machine = [c for c in clients if c["AllowedOAuthFlows"] == ["client_credentials"]]
    assert all(c["GenerateSecret"] is True for c in machine)
    # Only the operators client may obtain orders/admin
    assert len([c for c in clients if "/admin" in json.dumps(c["AllowedOAuthScopes"])]) == 1
    assert set(stack.template.find_outputs("*")) >= {
        "UserPoolId",
        "PeopleClientId",
        "ServicesClientId",
        "OperatorsClientId",
        "TokenUrl",
    }
    assert stack.function_environment()["ORDERS_API_AUTH"] == "jwt"


def test_jwt_routes_require_read_or_write_scopes(synth: SynthFactory) -> None:
    stack = synth(apiAuth="jwt")

    [authorizer] = stack.resources("AWS::ApiGatewayV2::Authorizer").values()
    assert authorizer["Properties"]["AuthorizerType"] == "JWT"
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in stack.resources("AWS::ApiGatewayV2::Route").values()
    }
    for key, route in routes.items():
        assert route["AuthorizationType"] == "JWT"
        expected = ["orders/read"] if key.startswith("GET ") else ["orders/write"]
        assert route["AuthorizationScopes"] == expected, key
    assert set(routes) >= {
        "GET /orders",
        "POST /orders",
        "PATCH /orders/{orderId}",
        "DELETE /orders/{orderId}",
    }


def test_jwt_auth_can_trust_an_external_issuer_instead(synth: SynthFactory) -> None:
    stack = synth(apiAuth="jwt", jwtIssuer="https://example.eu.auth0.com/", jwtAudience="orders-api")

    assert stack.resources("AWS::Cognito::UserPool") == {}
    [authorizer] = stack.resources("AWS::ApiGatewayV2::Authorizer").values()
    assert authorizer["Properties"]["JwtConfiguration"] == {
        "Audience": ["orders-api"],
        "Issuer": "https://example.eu.auth0.com/",
    }


def test_the_openapi_document_declares_the_scopes_the_jwt_routes_require(synth: SynthFactory) -> None:
    from orders_api.handler import openapi_json

    spec = json.loads(openapi_json())
    assert set(spec["components"]["securitySchemes"]) == {"sigv4", "jwt"}
    found = synth(apiAuth="jwt").resources("AWS::ApiGatewayV2::Route").values()
    required = {
        route["Properties"]["RouteKey"]: route["Properties"]["AuthorizationScopes"] for route in found
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            [jwt] = [option["jwt"] for option in operation["security"] if "jwt" in option]
            assert jwt == required[f"{method.upper()} {path}"], (method, path)
            assert {"sigv4": []} in operation["security"]


def test_a_former_context_key_reaches_the_function_under_the_new_name_with_a_warning(
    synth: SynthFactory,
) -> None:
    stack = synth(stargateUrl="https://abc-eu-west-1.apps.astra.datastax.com/api/json")

    assert (
        stack.function_environment()["STORE_URL"] == "https://abc-eu-west-1.apps.astra.datastax.com/api/json"
    )
    Annotations.from_stack(stack.stack).has_warning(
        "/OrdersApi", Match.string_like_regexp("stargateUrl is a former name: give storeUrl")
    )
