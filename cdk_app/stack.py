"""The stack: the secret, the function, the HTTP API and the alarms, wired together."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import Annotations, App, CfnOutput, Environment, Stack, Tags
from constructs import Construct

from cdk_app.api import OrdersHttpApi
from cdk_app.bundling import LAMBDA_SOURCE_DIR
from cdk_app.config import STACK_NAME, OrdersApiConfig
from cdk_app.dashboard import OrdersDashboard
from cdk_app.function import OrdersFunction
from cdk_app.github_oidc import GitHubDeployStack
from cdk_app.monitoring import OrdersMonitoring
from cdk_app.nag import enable_nag
from cdk_app.release import OrdersRelease, live_alias
from cdk_app.secret import CursorKeySecret, StoreSecret
from cdk_app.swagger_ui import SwaggerUiPage

# The construct id (paths, logical ids, cdk.out/OrdersApi.template.json); the CloudFormation stack
# is named per stage: OrdersApi-dev, OrdersApi-prod.
GITHUB_STACK_NAME: Final = "OrdersApiGitHubDeploy"


class OrdersApiStack(Stack):
    """Serverless orders API: HTTP API -> Lambda (Powertools) -> Stargate / Astra DB."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OrdersApiConfig,
        source_dir: Path = LAMBDA_SOURCE_DIR,
        stack_name: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=stack_name,
            env=Environment(region=region) if region else None,
            description=f"Orders API ({config.stage}): HTTP API, Lambda, Stargate / Astra DB",
        )
        self.config = config
        self.store_secret = StoreSecret(
            self,
            "StoreSecret",
            existing=config.existing_secret,
            kms_key=config.existing_secret_kms_key,
            retain=config.retain_secret,
        )
        self.cursor_key = CursorKeySecret(self, "CursorKey")
        self.orders_function = OrdersFunction(
            self,
            "OrdersFunction",
            config=config,
            secret=self.store_secret.secret,
            secret_id=self.store_secret.secret_id,
            secret_key=self.store_secret.encryption_key,
            cursor_key=self.cursor_key.secret,
            source_dir=source_dir,
        )
        # Callers reach the function through its alias, which CodeDeploy moves to each new version.
        self.alias = live_alias(self, self.orders_function.function)
        self.http_api = OrdersHttpApi(self, "Api", config=config, function=self.alias)
        self.swagger_ui = (
            SwaggerUiPage(self, "Docs", config=config, api=self.http_api.api) if config.swagger_ui else None
        )
        self.monitoring = OrdersMonitoring(
            self, "Monitoring", config=config, function=self.orders_function.function, api=self.http_api.api
        )
        self.release = OrdersRelease(
            self, "Release", config=config, alias=self.alias, topic=self.monitoring.topic
        )
        self.dashboard = OrdersDashboard(
            self,
            "Dashboard",
            function=self.orders_function.function,
            api=self.http_api.api,
            alarms=[*self.monitoring.alarms, *self.release.alarms],
        )

        if config.uses_placeholder_url:
            Annotations.of(self).add_warning_v2(
                "orders:placeholderStoreUrl",
                "storeUrl is still the placeholder from cdk.json; deploy with "
                "-c storeUrl=https://<db-id>-<region>.apps.astra.datastax.com/api/json",
            )
        elif (mismatch := config.api_path_mismatch) is not None:
            Annotations.of(self).add_warning_v2("orders:storeUrlPath", mismatch)
        for warning in config.warnings:
            Annotations.of(self).add_warning_v2("orders:formerContextKey", warning)
        if config.store_api == "documents" and config.reserved_concurrency != 1:
            allowed = config.reserved_concurrency or "any number of"
            Annotations.of(self).add_warning_v2(
                "orders:documentStoreConcurrency",
                f"storeApi=documents with documentStoreConcurrency={config.document_store_concurrency}: "
                f"{allowed} execution environments may change one order at the same time, and the "
                "Document API cannot compare and set, so two changes can both succeed (PAID and "
                "CANCELLED both answered 200) and two creates with one Idempotency-Key can both answer "
                "201; docs/stores/document-api.md lists each anomaly. 1 (the default) allows none.",
            )

        CfnOutput(self, "ApiUrl", value=self.http_api.url, description="Base URL of the orders API")
        CfnOutput(
            self,
            "SecretArn",
            value=self.store_secret.secret.secret_arn,
            description="Put the Astra / Stargate token here with `aws secretsmanager put-secret-value`",
        )
        if (pool := self.http_api.user_pool) is not None:
            CfnOutput(self, "UserPoolId", value=pool.pool.user_pool_id, description="Sign-in (apiAuth=jwt)")
            CfnOutput(self, "PeopleClientId", value=pool.people.user_pool_client_id)
            CfnOutput(self, "ServicesClientId", value=pool.services.user_pool_client_id)
            CfnOutput(self, "OperatorsClientId", value=pool.operators.user_pool_client_id)
            CfnOutput(self, "TokenUrl", value=pool.token_url, description="OAuth 2.0 token endpoint")
        if self.swagger_ui is not None:
            CfnOutput(
                self, "DocsUrl", value=f"{self.http_api.url}docs", description="Swagger UI (swaggerUi=true)"
            )
        CfnOutput(
            self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn, description="Alarm notifications"
        )


def add_orders_api(
    app: App, *, source_dir: Path = LAMBDA_SOURCE_DIR, region: str | None = None
) -> OrdersApiStack | None:
    """Read the config from ``app``'s context, add the stack, and check it with cdk-nag on every synth.

    ``region``: the region the stack is for (``app.py`` gives the CDK CLI's); without one (tests) the
    template suits any region. Raises ConfigError (naming the bad keys) before anything is built.
    """
    repository = app.node.try_get_context("githubRepo")
    if repository:
        # Only when asked for (make deploy-github-role): the app then holds this stack alone.
        existing = str(app.node.try_get_context("githubProviderExists") or "").lower() == "true"
        GitHubDeployStack(app, GITHUB_STACK_NAME, repository=str(repository), existing_provider=existing)
        enable_nag(app)
        return None
    config = OrdersApiConfig.from_context(app.node.try_get_context, app.node.get_all_context())
    stack = OrdersApiStack(
        app,
        STACK_NAME,
        stack_name=f"{STACK_NAME}-{config.stage}",
        config=config,
        source_dir=source_dir,
        region=region,
    )
    Tags.of(stack).add("orders:stage", config.stage)
    enable_nag(app)
    return stack
