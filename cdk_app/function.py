"""The one Lambda function that serves every route, with its role, log group and environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from aws_cdk import Annotations, AssetHashType, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.region_info import FactName, RegionInfo
from constructs import Construct

from cdk_app.bundling import LAMBDA_SOURCE_DIR, BuiltAsset, Target, build_function_asset
from cdk_app.config import OrdersApiConfig
from cdk_app.nag import acknowledge
from cdk_app.retention import retention_days
from orders_api import names

# The newest Python that both aws-cdk-lib and Powertools (3.10-3.14) support.
RUNTIME: Final = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
HANDLER: Final = "orders_api.handler.lambda_handler"
LAMBDA_TARGET: Final = Target(
    pip_platform="manylinux2014_aarch64", python_version=RUNTIME.name.removeprefix("python")
)

# The AWS Parameters and Secrets Lambda Extension serves the function's secrets on localhost (no AWS
# SDK in the function); the CDK picks its layer for the region and the function's architecture.
SECRETS_EXTENSION_VERSION: Final = lambda_.ParamsAndSecretsVersions.V1_0_103
SECRETS_EXTENSION_PORT: Final = 2773
# Timeout: the HTTP API gives up after 30 s, so a longer timeout bills for answers nobody receives.
# The function spends at most this, less a 1 s margin, on store calls, retries included
# (orders_api.store.http.time_budget), so a slow store is answered with the function's own 504.
TIMEOUT: Final = Duration.seconds(28)

_APPLICATION_LOG_LEVELS: Final = {
    "DEBUG": lambda_.ApplicationLogLevel.DEBUG,
    "INFO": lambda_.ApplicationLogLevel.INFO,
    "WARNING": lambda_.ApplicationLogLevel.WARN,
    "ERROR": lambda_.ApplicationLogLevel.ERROR,
}


class OrdersFunction(Construct):
    """The orders API function: arm64, JSON logs to its own log group, X-Ray tracing, reads its secrets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OrdersApiConfig,
        secret: secretsmanager.ISecret,
        secret_id: str,
        cursor_key: secretsmanager.ISecret,
        secret_key: kms.IKey | None = None,
        source_dir: Path = LAMBDA_SOURCE_DIR,
    ) -> None:
        super().__init__(scope, construct_id)
        asset = build_function_asset(
            LAMBDA_TARGET, source_dir, require_byte_code=config.byte_code == "required"
        )

        self.log_group, role = log_group_and_role(
            self,
            "",
            config,
            "Orders API function: writes its own logs and traces, reads its two secrets",
        )

        self.function = lambda_.Function(
            self,
            "Function",
            description="Orders API (HTTP API payload 2.0) backed by Stargate / Astra DB",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(asset.path), asset_hash=asset.asset_hash, asset_hash_type=AssetHashType.CUSTOM
            ),
            memory_size=config.memory_size,
            timeout=TIMEOUT,
            role=role,
            tracing=lambda_.Tracing.ACTIVE if config.tracing else lambda_.Tracing.DISABLED,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            # Lambda drops records below this level whatever Powertools' level is, so the two are kept equal.
            application_log_level_v2=_APPLICATION_LOG_LEVELS[config.log_level],
            # INFO keeps the platform's START and REPORT lines: duration, memory, Init Duration.
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            environment=_environment(config, secret_id, cursor_key),
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if config.snap_start else None,
            params_and_secrets=self._secrets_extension(config),
            # The Document API store's one writer at a time (config: documentStoreConcurrency).
            reserved_concurrent_executions=config.reserved_concurrency,
        )
        secret.grant_read(self.function)
        if secret_key is not None:
            # Only for reading the secret through Secrets Manager, never for anything else.
            via_secrets_manager = f"secretsmanager.{Stack.of(self).region}.amazonaws.com"
            self.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[secret_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": via_secrets_manager}},
                )
            )
        cursor_key.grant_read(self.function)

        # Acknowledged on the policy, not the role, so nothing else on the role inherits it.
        default_policy = role.node.try_find_child("DefaultPolicy")
        if default_policy is not None and config.tracing:
            acknowledge(
                default_policy,
                "AwsSolutions-IAM5[Resource::*]",
                "Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, "
                "which support no resource-level permissions.",
            )

    def _secrets_extension(self, config: OrdersApiConfig) -> lambda_.ParamsAndSecretsLayerVersion | None:
        """The Parameters and Secrets extension, or None where the function cannot use it: then it reads
        Secrets Manager itself, through the runtime's boto3 (``secret_values``)."""
        if config.snap_start:
            # The extension accepts only AWS_SESSION_TOKEN, which Lambda does not set under SnapStart.
            return None
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and region not in secrets_extension_regions():
            Annotations.of(self).add_info(
                f"No Parameters and Secrets extension for {ARCHITECTURE.name} in {region}: the function "
                "reads its secrets from Secrets Manager through the Lambda runtime's boto3."
            )
            return None
        # Sets PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, which tells the function to use it, and
        # SECRETS_MANAGER_TTL.
        return lambda_.ParamsAndSecretsLayerVersion.from_version(
            SECRETS_EXTENSION_VERSION,
            http_port=SECRETS_EXTENSION_PORT,
            secrets_manager_ttl=Duration.seconds(names.DEFAULT_SECRET_MAX_AGE),
            cache_size=10,
            log_level=lambda_.ParamsAndSecretsLogLevel.WARN,
        )


def secrets_extension_regions() -> frozenset[str]:
    """The regions where AWS publishes the extension's layer for the function's architecture."""
    version = SECRETS_EXTENSION_VERSION.name.removeprefix("V").replace("_", ".")  # V1_0_103: 1.0.103
    fact = FactName.params_and_secrets_lambda_layer(version, ARCHITECTURE.name)
    return frozenset(RegionInfo.region_map(fact))


def small_function(
    scope: Construct,
    prefix: str,
    construct_id: str,
    config: OrdersApiConfig,
    asset: BuiltAsset,
    *,
    role_description: str,
    **settings: Any,
) -> lambda_.Function:
    """A small function of the stack's own (no dependencies, e.g. the pre-traffic hook): the orders
    function's runtime and architecture, JSON logs into its own log group, and a role that may write
    only there (``log_group_and_role``); ``settings`` are the rest of ``lambda_.Function``'s."""
    log_group, role = log_group_and_role(scope, prefix, config, role_description)
    return lambda_.Function(
        scope,
        construct_id,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        code=lambda_.Code.from_asset(
            str(asset.path), asset_hash=asset.asset_hash, asset_hash_type=AssetHashType.CUSTOM
        ),
        role=role,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        **settings,
    )


def log_group_and_role(
    scope: Construct, prefix: str, config: OrdersApiConfig, description: str
) -> tuple[logs.LogGroup, iam.Role]:
    """A function's own log group (``<prefix>LogGroup``) and a role (``<prefix>Role``) that may write to
    it only: an own role instead of AWSLambdaBasicExecutionRole, which may write to any log group."""
    log_group = logs.LogGroup(
        scope,
        f"{prefix}LogGroup",
        retention=retention_days(config.log_retention_days),
        removal_policy=RemovalPolicy.DESTROY,
    )
    role = iam.Role(
        scope,
        f"{prefix}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
    )
    log_group.grant_write(role)
    return log_group, role


def _environment(
    config: OrdersApiConfig, secret_id: str, cursor_key: secretsmanager.ISecret
) -> dict[str, str]:
    environment = {
        names.POWERTOOLS_SERVICE_NAME: names.SERVICE_NAME,
        names.POWERTOOLS_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
        names.POWERTOOLS_LOG_LEVEL: config.log_level,
        names.ORDERS_STORE_API: config.store_api,
        # How the function tells callers apart: the same mode as the API's authorizer.
        names.ORDERS_API_AUTH: config.api_auth,
        names.STORE_URL: config.store_url,
        names.STORE_NAMESPACE: config.store_namespace,
        names.STORE_COLLECTION: config.store_collection,
        # The secret's ARN or name only; the token is read at run time, cached for SECRET_MAX_AGE_SECONDS.
        names.STORE_SECRET_ID: secret_id,
        names.SECRET_MAX_AGE_SECONDS: str(names.DEFAULT_SECRET_MAX_AGE),
        # The key that seals list cursors, read the same way.
        names.CURSOR_SECRET_ID: cursor_key.secret_arn,
        # A shorter cold start: pydantic does not look for plugins the function does not have.
        names.PYDANTIC_DISABLE_PLUGINS: names.NO_PYDANTIC_PLUGINS,
    }
    if config.store_auth_url is not None:
        environment[names.STORE_AUTH_URL] = config.store_auth_url
    if config.admin_principals:
        environment[names.ADMIN_PRINCIPALS] = ",".join(config.admin_principals)
    if not config.tracing:
        environment[names.POWERTOOLS_TRACE_DISABLED] = "true"
    return environment
