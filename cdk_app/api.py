"""The HTTP API in front of the function: routes, authorization, throttling, access logs, CORS."""

from __future__ import annotations

import json
from typing import Final

import jsii
from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_app.bundling import REPO_ROOT
from cdk_app.config import OrdersApiConfig
from cdk_app.nag import acknowledge
from cdk_app.retention import retention_days
from cdk_app.sign_in import RESOURCE_SERVER, OrdersUserPool
from orders_api.names import OPENAPI_PATH

# The committed OpenAPI document (`make openapi`; a test keeps it equal to what the function generates).
OPENAPI_DOCUMENT: Final = REPO_ROOT / "openapi.json"


def _routes() -> tuple[tuple[str, apigwv2.HttpMethod, tuple[str, ...]], ...]:
    """Each route (path, method) the document describes, with the OAuth scopes its ``jwt`` option needs,
    and the route that serves the document itself (the document leaves it out; reading it needs read)."""
    document = json.loads(OPENAPI_DOCUMENT.read_text())
    routes = [
        (path, apigwv2.HttpMethod(method.upper()), tuple(_jwt_scopes(operation)))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]
    return (*routes, (OPENAPI_PATH, apigwv2.HttpMethod.GET, (f"{RESOURCE_SERVER}/read",)))


def _jwt_scopes(operation: dict[str, list[dict[str, list[str]]]]) -> list[str]:
    return [scope for option in operation.get("security", []) for scope in option.get("jwt", [])]


ROUTES: Final = _routes()

# One JSON object per request, from the variables HTTP APIs offer (REST API variables such as
# $context.resourcePath do not exist here).
ACCESS_LOG_FORMAT: Final = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "error": "$context.error.message",
}

_CORS_HEADERS: Final = (
    "authorization",
    "content-type",
    "idempotency-key",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-security-token",
)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """Where and how the stage writes its access logs."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat | None:
        return self._format


class OrdersHttpApi(Construct):
    """An HTTP API whose routes all go to ``function``, signed with SigV4 (IAM) unless auth is ``none``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: OrdersApiConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool: OrdersUserPool | None = None
        authorizer: apigwv2.IHttpRouteAuthorizer
        if config.api_auth == "iam":
            authorizer = authorizers.HttpIamAuthorizer()
        elif config.api_auth == "jwt":
            if config.jwt_issuer is None:
                self.user_pool = OrdersUserPool(self, "SignIn", stage=config.stage)
                issuer, audience = self.user_pool.issuer, self.user_pool.audience
            else:
                issuer, audience = config.jwt_issuer, list(config.jwt_audience)
            authorizer = authorizers.HttpJwtAuthorizer("JwtAuthorizer", issuer, jwt_audience=audience)
        else:
            authorizer = apigwv2.HttpNoneAuthorizer()
        self.api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="Orders API",
            # The stage below carries throttling and access logs, which the default stage cannot.
            create_default_stage=False,
            default_authorizer=authorizer,
            cors_preflight=_cors(config),
        )

        # Under /aws/vendedlogs/: API Gateway then delivers without adding a statement to the account's
        # one CloudWatch Logs resource policy, whose size limit an account with many APIs reaches.
        self.access_log_group = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/vendedlogs/apigateway/{Stack.of(self).stack_name}/access-logs",
            retention=retention_days(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.throttle_rate_limit, burst_limit=config.throttle_burst_limit
            ),
            access_log_settings=_AccessLogSettings(self.access_log_group),
        )

        integration = integrations.HttpLambdaIntegration(
            "OrdersFunction", function, payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0
        )
        for path, method, scopes in ROUTES:
            self.api.add_routes(
                path=path,
                methods=[method],
                integration=integration,
                # With JWTs, the scopes the document names: orders/read to read, orders/write to change
                # (admins hold both too).
                authorization_scopes=list(scopes) if config.api_auth == "jwt" else None,
            )

        if config.api_auth == "none":
            Annotations.of(self).add_warning_v2(
                "orders:apiAuthNone",
                "apiAuth is 'none': anyone who knows the URL can create, read and delete orders. "
                "Use it only for a short-lived test stack.",
            )
            acknowledge(
                self.api,
                "AwsSolutions-APIG4",
                "Authorization was turned off on purpose with the apiAuth=none context key.",
            )

    @property
    def url(self) -> str:
        """The endpoint, ending in ``/``."""
        return self.stage.url


def _cors(config: OrdersApiConfig) -> apigwv2.CorsPreflightOptions | None:
    if not config.cors_allow_origins:
        return None
    return apigwv2.CorsPreflightOptions(
        allow_origins=list(config.cors_allow_origins),
        allow_methods=[
            apigwv2.CorsHttpMethod.GET,
            apigwv2.CorsHttpMethod.POST,
            apigwv2.CorsHttpMethod.PATCH,
            apigwv2.CorsHttpMethod.DELETE,
        ],
        allow_headers=list(_CORS_HEADERS),
        expose_headers=["location"],
        max_age=Duration.hours(1),
    )
