"""Swagger UI on a deployed stage: only with ``-c swaggerUi=true``, from a function of its own whose
asset holds the page, Swagger UI's files and the committed OpenAPI document; the order routes keep
their authorizer and the orders function is untouched."""

from __future__ import annotations

import base64
import importlib.util
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from cdk_app.bundling import REPO_ROOT
from tests.infra.synthesis import Synthesized

pytestmark = pytest.mark.infra

DOCS_ROUTES = {"GET /docs", "GET /docs/{file}"}


def _page_function(stack: Synthesized) -> tuple[str, dict[str, Any]]:
    functions = stack.resources("AWS::Lambda::Function")
    found = [
        (key, value)
        for key, value in functions.items()
        if value["Properties"]["Handler"] == "docs_page.handler"
    ]
    assert len(found) == 1
    return found[0]


def _load_handler(stack: Synthesized, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The page function's handler, imported from the asset the template deploys, in the environment the
    template gives it."""
    _, function = _page_function(stack)
    for name, value in function["Properties"]["Environment"]["Variables"].items():
        monkeypatch.setenv(name, value)
    page = stack.stack.swagger_ui
    assert page is not None
    asset = page.asset_path
    spec = importlib.util.spec_from_file_location("deployed_docs_page", asset / "docs_page.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _get(module: ModuleType, path: str) -> dict[str, Any]:
    answer: dict[str, Any] = module.handler(
        {"rawPath": path, "requestContext": {"http": {"method": "GET"}}}, None
    )
    return answer


def test_without_the_setting_there_is_no_docs_route_and_no_page_function(default_stack: Synthesized) -> None:
    routes = {
        route["Properties"]["RouteKey"]
        for route in default_stack.resources("AWS::ApiGatewayV2::Route").values()
    }
    handlers = {
        function["Properties"]["Handler"]
        for function in default_stack.resources("AWS::Lambda::Function").values()
    }

    assert not routes & DOCS_ROUTES
    assert "docs_page.handler" not in handlers
    assert "DocsUrl" not in default_stack.template.find_outputs("*")


@pytest.mark.parametrize("api_auth", ["iam", "jwt"])
def test_the_docs_routes_need_no_sign_in_and_every_order_route_keeps_its_authorizer(
    synth: Callable[..., Synthesized], default_stack: Synthesized, api_auth: str
) -> None:
    stack = synth(swaggerUi=True, apiAuth=api_auth)
    page_id, page_function = _page_function(stack)
    routes = {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in stack.resources("AWS::ApiGatewayV2::Route").values()
    }
    integrations = stack.resources("AWS::ApiGatewayV2::Integration")
    page_integrations = {
        key
        for key, value in integrations.items()
        if page_id in json.dumps(value["Properties"]["IntegrationUri"])
    }
    expected = "AWS_IAM" if api_auth == "iam" else "JWT"

    assert set(routes) >= DOCS_ROUTES
    for key, route in routes.items():
        target = json.dumps(route["Target"])
        if key in DOCS_ROUTES:
            assert route["AuthorizationType"] == "NONE"
            assert any(integration in target for integration in page_integrations)
        else:
            assert route["AuthorizationType"] == expected
            assert not any(integration in target for integration in page_integrations)
    assert page_function["Properties"]["Environment"]["Variables"] == {"DOCS_API_AUTH": api_auth}
    assert "DocsUrl" in stack.template.find_outputs("*")
    # The orders function is the same function as without the page
    assert (
        stack.orders_function()[1]["Properties"]["Code"]
        == default_stack.orders_function()[1]["Properties"]["Code"]
    )


def test_the_page_function_may_only_write_its_own_logs(synth: Callable[..., Synthesized]) -> None:
    stack = synth(swaggerUi=True)
    _, page_function = _page_function(stack)
    role_id = page_function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [
        policy
        for policy in stack.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    ]
    actions = {
        action
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }

    assert actions <= {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert "secretsmanager" not in json.dumps(policies)


def test_the_deployed_page_serves_swagger_ui_and_the_committed_document_from_its_own_asset(
    synth: Callable[..., Synthesized], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = _load_handler(synth(swaggerUi=True, apiAuth="jwt"), monkeypatch)

    page = _get(handler, "/docs")
    document = _get(handler, "/docs/openapi.json")
    script = _get(handler, "/docs/swagger-ui-bundle.js")
    icon = _get(handler, "/docs/favicon-32x32.png")
    missing = _get(handler, "/docs/../cdk.json")

    assert page["statusCode"] == 200
    assert page["headers"]["content-type"].startswith("text/html")
    assert "https://" not in page["body"]  # no CDN
    assert '"scheme": "bearer"' in page["body"]  # a Cognito access token for "Try it out"
    assert json.loads(document["body"]) == json.loads((REPO_ROOT / "openapi.json").read_text())
    assert script["statusCode"] == 200
    assert len(script["body"]) > 500_000
    assert icon["isBase64Encoded"]
    assert base64.b64decode(icon["body"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert missing["statusCode"] == 404
    assert "no such file" in missing["body"]


def test_with_iam_the_page_is_for_reading_as_a_browser_cannot_sign_sigv4(
    synth: Callable[..., Synthesized], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _get(_load_handler(synth(swaggerUi=True), monkeypatch), "/docs")["body"]

    assert "const tryItOut = false;" in body
    assert "const scheme = null;" in body
    assert "SigV4" in body
