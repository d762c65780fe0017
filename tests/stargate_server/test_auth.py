"""POST /v1/auth and the X-Cassandra-Token check on /v2 calls."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from localdev.stargate import RunningServer, start_in_thread

from .conftest import FakeClock, fetch_token
from .docs_client import TIMEOUT, DocsClient


def test_auth_with_developer_credentials_returns_a_uuid_token(stargate: RunningServer) -> None:
    # Given the developer-mode credentials
    credentials = {"username": "cassandra", "password": "cassandra"}

    # When a client asks for a token
    response = requests.post(f"{stargate.url}/v1/auth", json=credentials, timeout=TIMEOUT)

    # Then it gets 201 and a UUID token
    assert response.status_code == 201
    token = response.json()["authToken"]
    assert len(token) == 36
    assert token.count("-") == 4


@pytest.mark.parametrize(
    ("body", "description"),
    [
        (None, "Must provide username in request"),
        ({}, "Must provide username in request"),
        ({"password": "cassandra"}, "Must provide username in request"),
        ({"username": "cassandra"}, "Must provide password in request"),
    ],
)
def test_auth_without_credentials_answers_400_without_code(
    stargate: RunningServer, body: dict[str, str] | None, description: str
) -> None:
    # When credentials are missing
    response = requests.post(f"{stargate.url}/v1/auth", json=body, timeout=TIMEOUT)

    # Then the auth API answers 400 with a description and no code field
    assert response.status_code == 400
    assert response.json() == {"description": description}


def test_auth_with_wrong_password_answers_401(stargate: RunningServer) -> None:
    response = requests.post(
        f"{stargate.url}/v1/auth", json={"username": "cassandra", "password": "nope"}, timeout=TIMEOUT
    )

    assert response.status_code == 401
    assert response.json() == {
        "description": "Failed to create token: Provided username cassandra and/or password are incorrect"
    }


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "Missing token"),
        ({"X-Cassandra-Token": "not-a-uuid"}, "authorization failed - bad token"),
        ({"X-Cassandra-Token": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}, "authorization failed"),
    ],
)
def test_v2_calls_without_a_valid_token_answer_401(
    stargate: RunningServer, headers: dict[str, str], reason: str
) -> None:
    # When a /v2 call carries no token, a malformed one or an unknown one
    response = requests.get(f"{stargate.url}/v2/schemas/namespaces/any", headers=headers, timeout=TIMEOUT)

    # Then it is refused with the Document API's 401 body
    assert response.status_code == 401
    assert response.json() == {"description": f"Role unauthorized for operation: {reason}", "code": 401}


def test_a_token_expires_1800_seconds_after_its_last_use(
    stargate: RunningServer, session: requests.Session, clock: FakeClock
) -> None:
    # Given a token used now and then again 1000 s later (which slides its expiry)
    client = DocsClient(stargate.url, session, fetch_token(stargate.url, session))
    assert client.get("/v2/schemas/namespaces").status_code == 200
    clock.advance(1000)
    assert client.get("/v2/schemas/namespaces").status_code == 200

    # When 1700 s pass (2700 s after issue, but less than 1800 s after last use)
    clock.advance(1700)

    # Then it still works, but not after another 1801 s of idleness
    assert client.get("/v2/schemas/namespaces").status_code == 200
    clock.advance(1801)
    response = client.get("/v2/schemas/namespaces")
    assert response.status_code == 401
    assert response.json()["description"] == "Role unauthorized for operation: authorization failed"


def test_a_fixed_token_configured_at_start_is_accepted(tmp_path: Path) -> None:
    # Given a server started with a fixed token
    with start_in_thread(port=0, data_dir=tmp_path, token="local-dev-token") as server:
        # When a client uses it without calling /v1/auth
        response = requests.get(
            f"{server.url}/v2/schemas/namespaces",
            headers={"X-Cassandra-Token": "local-dev-token"},
            timeout=TIMEOUT,
        )

    # Then the call is authorized
    assert response.status_code == 200
    assert response.json() == {"data": []}


def test_issued_tokens_survive_a_restart(tmp_path: Path) -> None:
    # Given a token issued by a server that then stops
    with start_in_thread(port=0, data_dir=tmp_path) as first, requests.Session() as session:
        token = fetch_token(first.url, session)

    # When a new server starts on the same data directory
    with start_in_thread(port=0, data_dir=tmp_path) as second:
        response = requests.get(
            f"{second.url}/v2/schemas/namespaces", headers={"X-Cassandra-Token": token}, timeout=TIMEOUT
        )

    # Then the token still works
    assert response.status_code == 200
