"""scripts/smoke.py: the checks it makes against a running API, and the SigV4 signature it sends."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import responses
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from requests import PreparedRequest

from tests.e2e.conftest import RunningApi
from tests.infra.synthesis import REPO_ROOT

pytestmark = pytest.mark.infra


def _signature(authorization: str) -> str:
    return authorization.rsplit("Signature=", 1)[1]


def _expected_signature(sent: PreparedRequest, authorization: str, region: str) -> str:
    """Sign again what was actually sent (URL, body, the signed headers) at the same time stamp."""
    signed_names = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    headers = {name: sent.headers[name] for name in signed_names if name != "host"}
    request = AWSRequest(method=sent.method, url=sent.url, data=sent.body, headers=headers)
    request.context["timestamp"] = sent.headers["X-Amz-Date"]
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")
    signer = SigV4Auth(credentials, "execute-api", region)
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    signature: str = signer.signature(string_to_sign, request)
    return signature


@pytest.fixture(scope="module")
def smoke() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smoke", REPO_ROOT / "scripts" / "smoke.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["smoke"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["data", "documents"])
def local_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApi]:
    """The API as `make run` starts it, in front of each store API the function can use."""
    # apiAuth=none: the signed requests of these tests carry SigV4, which a JWT-mode `make run` refuses.
    env = {"ORDERS_STORE_API": request.param, "ORDERS_API_AUTH": "none"}
    running = RunningApi(tmp_path_factory.mktemp("smoke-data"), env).start()
    yield running
    running.stop()


@pytest.mark.e2e
def test_smoke_passes_against_the_api_started_like_make_run(
    smoke: ModuleType, local_api: RunningApi, capsys: pytest.CaptureFixture[str]
) -> None:
    status = smoke.main([local_api.url, "--no-auth"])

    printed = capsys.readouterr().out
    assert status == 0, printed
    calls = [line.split(" -> ") for line in printed.splitlines() if " -> " in line]
    assert [(call[0].split()[0], call[1]) for call in calls] == [
        ("POST", "201"),
        ("GET", "200"),
        ("GET", "200"),
        ("PATCH", "200"),
        ("DELETE", "204"),
        ("GET", "404"),
        ("POST", "422"),
    ]
    assert printed.endswith("Smoke test passed.\n")


@responses.activate
def test_requests_are_signed_for_execute_api_in_the_region_of_the_url(
    smoke: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given credentials and an API that answers the first call with a surprise
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    url = "https://abc123.execute-api.ap-southeast-2.amazonaws.com/"
    responses.post(f"{url}orders", status=500, json={"message": "Internal Server Error"})

    # When the smoke test runs
    status = smoke.main([url])

    # Then the request carried a SigV4 signature for execute-api in ap-southeast-2, and the run failed
    [call] = responses.calls
    authorization = call.request.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/ap-southeast-2/execute-api/aws4_request, " in authorization
    assert call.request.headers["X-Amz-Security-Token"] == "session-token"
    assert _signature(authorization) == _expected_signature(call.request, authorization, "ap-southeast-2")
    assert status == 1
    assert "FAILED: expected HTTP 201, got 500" in capsys.readouterr().out


def test_without_a_url_or_deploy_outputs_it_explains_how_to_call_it(
    smoke: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("API_URL", raising=False)
    monkeypatch.setattr(smoke, "OUTPUTS_FILE", tmp_path / "cdk-outputs.json")

    assert smoke.main([]) == 2
    assert "make smoke API_URL=" in capsys.readouterr().out


def test_the_url_defaults_to_the_one_make_deploy_saved(
    smoke: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outputs = tmp_path / "cdk-outputs.json"
    outputs.write_text('{"OrdersApi-dev": {"ApiUrl": "https://x1.execute-api.eu-west-1.amazonaws.com/"}}')
    monkeypatch.setattr(smoke, "OUTPUTS_FILE", outputs)

    assert smoke.deployed_url() == "https://x1.execute-api.eu-west-1.amazonaws.com/"


def test_region_comes_from_the_environment_for_a_custom_domain(
    smoke: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")

    assert smoke.region_of("https://orders.example.com/") == "eu-central-1"
    assert smoke.region_of("https://x1.execute-api.us-west-2.amazonaws.com/") == "us-west-2"
    assert Path(smoke.__file__).name == "smoke.py"


# --- scripts/call.py: one signed request ---------------------------------------------------------------


@pytest.fixture(scope="module")
def call(smoke: ModuleType) -> ModuleType:
    spec = importlib.util.spec_from_file_location("call", REPO_ROOT / "scripts" / "call.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@responses.activate
@pytest.mark.usefixtures("example_credentials")
def test_call_signs_a_next_cursor_request_with_its_query_in_canonical_order(call: ModuleType) -> None:
    # Given a query whose parameters are not in sorted order (what curl before 8.x got wrong)
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/"
    responses.get(f"{url}orders", json={"items": [], "nextCursor": None})

    # When the request is sent
    status = call.main(["GET", "/orders?status=PAID&cursor=b.c&limit=5", "--url", url])

    # Then its signature is the one API Gateway computes (sorted query), with the session token
    [sent] = responses.calls
    authorization = sent.request.headers["Authorization"]
    assert status == 0
    assert sent.request.headers["X-Amz-Security-Token"] == "session-token"
    assert _signature(authorization) == _expected_signature(sent.request, authorization, "eu-west-1")


@responses.activate
@pytest.mark.usefixtures("example_credentials")
def test_call_signs_extra_headers_and_the_json_body(call: ModuleType) -> None:
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/"
    responses.post(f"{url}orders", status=201, json={"orderId": "x"})

    status = call.main(
        ["POST", "/orders", '{"productName": "Tea"}', "-H", "Idempotency-Key: k-1", "--url", url]
    )

    [sent] = responses.calls
    assert status == 0
    assert sent.request.body == b'{"productName": "Tea"}'
    assert "idempotency-key" in sent.request.headers["Authorization"].split("SignedHeaders=")[1]
    assert _signature(sent.request.headers["Authorization"]) == _expected_signature(
        sent.request, sent.request.headers["Authorization"], "eu-west-1"
    )


@pytest.mark.e2e
@pytest.mark.usefixtures("example_credentials")
def test_call_reaches_the_api_started_like_make_run(
    call: ModuleType,
    local_api: RunningApi,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # a localhost URL names no region
    body = '{"productName": "Tea", "productQuantity": 1, "productPrice": 450}'

    assert call.main(["POST", "/orders", body, "--url", local_api.url]) == 0
    status, answer = capsys.readouterr().out.splitlines()
    assert status == "201"
    assert call.main(["GET", f"/orders/{json.loads(answer)['orderId']}", "--url", local_api.url]) == 0
    assert call.main(["GET", "/orders/not-a-uuid", "--url", local_api.url]) == 1


def test_call_without_a_url_says_how_to_give_one(
    call: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.modules["smoke"], "OUTPUTS_FILE", tmp_path / "cdk-outputs.json")

    assert call.main(["GET", "/orders"]) == 2
    assert "--url" in capsys.readouterr().err


# --- apiAuth=jwt ---------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_smoke_passes_with_a_bearer_token_against_make_run_in_jwt_mode(
    smoke: ModuleType, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from localdev.tokens import LocalIssuer

    running = RunningApi(tmp_path_factory.mktemp("jwt-data"), {"ORDERS_API_AUTH": "jwt"}).start()
    try:
        token = LocalIssuer(running.data_dir).issue("smoke")
        assert smoke.main([running.url, "--bearer", token]) == 0
        assert smoke.main([running.url, "--bearer", "not-a-token"]) == 1
    finally:
        running.stop()
    assert "expected HTTP 201, got 401" in capsys.readouterr().out


@responses.activate
def test_cognito_mode_gets_a_client_credentials_token_for_the_services_client(
    smoke: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outputs = {
        "OrdersApi-dev": {
            "ApiUrl": "https://x1.execute-api.eu-west-1.amazonaws.com/",
            "UserPoolId": "eu-west-1_abc",
            "ServicesClientId": "client-1",
            "TokenUrl": "https://orders-dev-1.auth.eu-west-1.amazoncognito.com/oauth2/token",
        }
    }
    (tmp_path / "cdk-outputs.json").write_text(json.dumps(outputs))
    monkeypatch.setattr(smoke, "OUTPUTS_FILE", tmp_path / "cdk-outputs.json")

    class Cognito:
        def describe_user_pool_client(self, UserPoolId: str, ClientId: str) -> dict[str, Any]:
            assert (UserPoolId, ClientId) == ("eu-west-1_abc", "client-1")
            return {"UserPoolClient": {"ClientSecret": "s3cret"}}

    monkeypatch.setattr(smoke.Session, "create_client", lambda self, name, region_name: Cognito())
    responses.post(outputs["OrdersApi-dev"]["TokenUrl"], json={"access_token": "token-1", "expires_in": 3600})

    token = smoke.client_credentials_token(smoke.deployed_outputs(), "eu-west-1")

    assert token == "token-1"
    [call] = responses.calls
    assert "grant_type=client_credentials" in str(call.request.body)
    assert call.request.headers["Authorization"].startswith("Basic ")


def test_after_a_deploy_with_cognito_the_smoke_test_signs_in_with_the_services_client(
    smoke: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given the outputs `make deploy` saved for a stack with apiAuth=jwt and its Cognito pool
    url = "https://x1.execute-api.eu-west-1.amazonaws.com/"
    outputs = {
        "ApiUrl": url,
        "UserPoolId": "eu-west-1_abc",
        "ServicesClientId": "c-1",
        "TokenUrl": "https://t",
    }
    (tmp_path / "cdk-outputs.json").write_text(json.dumps({"OrdersApi-dev": outputs}))
    monkeypatch.setattr(smoke, "OUTPUTS_FILE", tmp_path / "cdk-outputs.json")
    monkeypatch.delenv("SMOKE_BEARER_TOKEN", raising=False)
    monkeypatch.setattr(smoke, "client_credentials_token", lambda outputs, region: f"token-for-{region}")
    clients: list[Any] = []
    monkeypatch.setattr(smoke, "run", lambda client, page_size, max_pages: clients.append(client))

    # When `make smoke` runs without arguments, as the deploy workflow runs it
    assert smoke.main([]) == 0

    # Then it sends the services client's token, not a SigV4 signature
    [client] = clients
    assert (client._bearer, client._credentials) == ("token-for-eu-west-1", None)


def test_an_empty_smoke_bearer_token_is_no_token(
    smoke: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A workflow passes an unset secret as an empty string.
    monkeypatch.setenv("SMOKE_BEARER_TOKEN", "")
    monkeypatch.setattr(smoke, "OUTPUTS_FILE", tmp_path / "missing.json")
    monkeypatch.setattr(smoke.Session, "get_credentials", lambda self: Credentials("AKID", "secret"))
    clients: list[Any] = []
    monkeypatch.setattr(smoke, "run", lambda client, page_size, max_pages: clients.append(client))

    assert smoke.main(["https://x1.execute-api.eu-west-1.amazonaws.com/"]) == 0

    [client] = clients
    assert client._bearer is None
    assert client._credentials is not None
