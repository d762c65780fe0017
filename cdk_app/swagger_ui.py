"""Swagger UI for a deployed stage, only with ``-c swaggerUi=true``: ``GET /docs`` and ``GET /docs/{file}``.

A function of its own serves the page (cdk_app/docs_page), Swagger UI's assets from the pinned
``swagger-ui-py`` package and the committed ``openapi.json``, all copied into its asset at synth: no
CDN, and nothing added to the orders function's code, role or cold start. The two routes need no
sign-in (a browser opens the page before it holds any credential); every order route keeps the stack's
``apiAuth``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from constructs import Construct

from cdk_app.api import OPENAPI_DOCUMENT
from cdk_app.bundling import BundlingError, build_files_asset
from cdk_app.config import OrdersApiConfig
from cdk_app.docs_page import docs_page
from cdk_app.function import small_function
from cdk_app.nag import acknowledge

PAGE_SOURCE: Final = Path(docs_page.__file__).resolve()
# The routes the page's function answers.
DOCS_ROUTES: Final = ("/docs", "/docs/{file}")


def swagger_ui_assets() -> Path:
    """The folder of Swagger UI's files in the installed ``swagger-ui-py`` package."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise BundlingError(
            "swaggerUi=true needs the swagger-ui-py package (make synth installs it from the dev lock)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def page_files() -> dict[str, Path]:
    """The page function's asset: path in the asset -> file on disk."""
    assets = swagger_ui_assets()
    return {
        "docs_page.py": PAGE_SOURCE,
        f"{docs_page.STATIC_FOLDER}/{docs_page.DOCUMENT_NAME}": OPENAPI_DOCUMENT,
        **{f"{docs_page.STATIC_FOLDER}/{name}": assets / name for name in docs_page.ASSETS},
    }


class SwaggerUiPage(Construct):
    """The page's function and its two unauthenticated routes on ``api``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: OrdersApiConfig, api: apigwv2.HttpApi
    ) -> None:
        super().__init__(scope, construct_id)
        asset = build_files_asset(page_files(), "swagger-ui")
        self.asset_path = asset.path
        self.function = small_function(
            self,
            "Page",
            "PageFunction",
            config,
            asset,
            role_description="Orders API: serves Swagger UI at /docs",
            description="Serves Swagger UI and the OpenAPI document at /docs (swaggerUi=true)",
            handler="docs_page.handler",
            timeout=Duration.seconds(5),
            memory_size=256,
            environment={docs_page.AUTH_ENVIRONMENT: config.api_auth},
        )
        integration = integrations.HttpLambdaIntegration(
            "PageIntegration", self.function, payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0
        )
        for path in DOCS_ROUTES:
            for route in api.add_routes(
                path=path,
                methods=[apigwv2.HttpMethod.GET],
                integration=integration,
                authorizer=apigwv2.HttpNoneAuthorizer(),
            ):
                acknowledge(
                    route,
                    "AwsSolutions-APIG4",
                    "Swagger UI and the OpenAPI document, public on purpose (swaggerUi=true): a browser "
                    "opens the page before it holds a credential; the order routes keep their authorizer.",
                )
