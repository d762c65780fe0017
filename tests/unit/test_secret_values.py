"""Reading secrets: through the Parameters and Secrets extension (its stand-in here), kept in process for
the cache age, and read past every cache from Secrets Manager itself when forced."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from localdev.secrets_extension import SecretsExtension
from orders_api import secret_values
from orders_api.errors import ConfigurationError
from orders_api.secret_values import SecretReader, SecretUnreadable

SECRET_ID = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders/token-AbCdEf"
SESSION_TOKEN = "session-token-for-the-extension"


@pytest.fixture
def extension(monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretsExtension]:
    """The extension's stand-in, with the environment Lambda gives a function that has its layer."""
    with SecretsExtension({SECRET_ID: "AstraCS:token-1"}, SESSION_TOKEN) as running:
        monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(running.port))
        monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
        monkeypatch.setattr(secret_values, "_extension_session", None)
        yield running


@pytest.fixture
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The runtime's boto3 client for Secrets Manager, with answers a test queues."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(secret_values, "_secrets_manager", None)
    with Stubber(secret_values.secrets_manager_client()) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_secret_is_read_through_the_extension_once_per_cache_age(extension: SecretsExtension) -> None:
    clock = Clock()
    reader = SecretReader(SECRET_ID, 300, clock=clock)

    values = [reader.read() for _ in range(5)]
    clock.now += 299
    values.append(reader.read())
    assert extension.reads[SECRET_ID] == 1

    extension.secrets[SECRET_ID] = "AstraCS:token-2"
    clock.now += 2
    assert reader.read() == "AstraCS:token-2"
    assert values == ["AstraCS:token-1"] * 6
    assert extension.reads[SECRET_ID] == 2


def test_a_forced_read_goes_past_the_extensions_cache_to_secrets_manager(
    extension: SecretsExtension, secrets_manager: Stubber
) -> None:
    reader = SecretReader(SECRET_ID, 300)
    assert reader.read() == "AstraCS:token-1"
    secrets_manager.add_response(
        "get_secret_value",
        {"Name": "orders/token", "SecretString": "AstraCS:rotated"},
        {"SecretId": SECRET_ID},
    )

    assert reader.read(force_fetch=True) == "AstraCS:rotated"
    # The fresh value is kept: the extension is not asked again within the cache age.
    assert reader.read() == "AstraCS:rotated"
    assert extension.reads[SECRET_ID] == 1


def test_without_the_extension_secrets_come_from_secrets_manager_once_per_cache_age(
    monkeypatch: pytest.MonkeyPatch, secrets_manager: Stubber
) -> None:
    # Given Lambda's environment under SnapStart: no extension, container credentials, no session token
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", raising=False)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/2018-06-01/credentials")
    monkeypatch.setattr(secret_values, "from_extension", _no_extension)
    secrets_manager.add_response(
        "get_secret_value",
        {"Name": "orders/token", "SecretString": "AstraCS:token-1"},
        {"SecretId": SECRET_ID},
    )
    clock = Clock()
    reader = SecretReader(SECRET_ID, 300, clock=clock)

    # When the secret is read several times within its cache age
    values = [reader.read() for _ in range(3)]
    clock.now += 299

    # Then Secrets Manager was asked once (the stubber holds one answer), the extension never
    assert [*values, reader.read()] == ["AstraCS:token-1"] * 4


IN_LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "orders"}
WITH_EXTENSION = {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "2773"}


@pytest.mark.parametrize(
    ("env", "through_extension"),
    [
        ({**IN_LAMBDA, **WITH_EXTENSION, "AWS_SESSION_TOKEN": "t"}, True),
        # SnapStart: the stack leaves the extension out, and Lambda gives container credentials
        ({**IN_LAMBDA, "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://x"}, False),
        ({**IN_LAMBDA, **WITH_EXTENSION, "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://x"}, False),
        # a region without the extension's layer: a session token, no extension
        ({**IN_LAMBDA, "AWS_SESSION_TOKEN": "t"}, False),
        ({}, True),  # outside Lambda: the extension's stand-in, or an error that says to give the token
        ({"AWS_SESSION_TOKEN": "t"}, True),
    ],
)
def test_in_lambda_the_extension_is_asked_only_where_the_stack_added_it_and_it_can_be_asked(
    env: dict[str, str], through_extension: bool
) -> None:
    assert secret_values.reads_through_extension(env) is through_extension


def _no_extension(secret_id: str, what: str) -> dict[str, Any]:
    raise AssertionError("the extension was asked")


def test_the_secrets_manager_client_is_bounded_like_store_calls(secrets_manager: Stubber) -> None:
    config = secret_values.secrets_manager_client().meta.config
    assert config.connect_timeout <= 3
    assert config.read_timeout <= 5
    assert config.retries["total_max_attempts"] <= 3


def test_secrets_manager_refusing_a_forced_read_is_a_502_naming_the_secret_kind(
    secrets_manager: Stubber,
) -> None:
    secrets_manager.add_client_error("get_secret_value", "AccessDeniedException", "not allowed: AstraCS:x")

    with pytest.raises(SecretUnreadable, match="The store credentials could not be read") as raised:
        SecretReader(SECRET_ID, 300).read(force_fetch=True)
    assert raised.value.status_code == 502
    assert "AstraCS" not in str(raised.value)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"AWS_SESSION_TOKEN": "another-session"}, "answered HTTP 401"),
        ({"SECRET": "orders/unknown"}, "answered HTTP 400"),
    ],
)
def test_an_extension_that_will_not_give_the_secret_is_a_502(
    extension: SecretsExtension, monkeypatch: pytest.MonkeyPatch, change: dict[str, str], words: str
) -> None:
    secret_id = change.pop("SECRET", SECRET_ID)
    for name, value in change.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SecretUnreadable, match=words) as raised:
        SecretReader(secret_id, 300).read()
    assert raised.value.status_code == 502


def test_no_extension_running_is_a_502_that_says_where_it_was_looked_for(
    monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(unused_port))

    with pytest.raises(SecretUnreadable, match=f"localhost:{unused_port}.*layer"):
        SecretReader(SECRET_ID, 300).read()


def test_outside_lambda_without_a_session_token_the_error_says_to_give_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)

    with pytest.raises(ConfigurationError, match="AWS_SESSION_TOKEN"):
        SecretReader(SECRET_ID, 300, "The cursor key").read()


@pytest.mark.parametrize(
    ("document", "error"),
    [({"SecretBinary": b"x"}, ConfigurationError), ({"Name": "x"}, SecretUnreadable)],
)
def test_a_secret_without_a_string_value_is_refused(
    monkeypatch: pytest.MonkeyPatch, document: dict[str, Any], error: type[Exception]
) -> None:
    monkeypatch.setattr(secret_values, "from_extension", lambda secret_id, what: document)

    with pytest.raises(error):
        SecretReader(SECRET_ID, 300).read()


def test_the_extension_is_never_asked_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The request carries the AWS session token: it must never go to a proxy in clear text.
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setattr(secret_values, "_extension_session", None)

    session = secret_values._session()

    assert session.trust_env is False
    assert not session.proxies


def test_a_runtime_without_boto3_makes_a_forced_read_a_502_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.setattr(secret_values, "_secrets_manager", None)

    with pytest.raises(SecretUnreadable, match="boto3 is not available") as raised:
        SecretReader(SECRET_ID, 300).read(force_fetch=True)
    assert raised.value.status_code == 502


def test_a_store_that_keeps_refusing_costs_one_forced_read_per_interval(
    extension: SecretsExtension, secrets_manager: Stubber
) -> None:
    # A token revoked and never rotated: every request is refused, and each asks for a fresh one.
    clock = Clock()
    reader = SecretReader(SECRET_ID, 300, clock=clock)
    reader.read()
    secrets_manager.add_response(
        "get_secret_value", {"SecretString": "AstraCS:same"}, {"SecretId": SECRET_ID}
    )
    secrets_manager.add_response(
        "get_secret_value", {"SecretString": "AstraCS:later"}, {"SecretId": SECRET_ID}
    )

    seen = [reader.read(force_fetch=True) for _ in range(5)]
    clock.now += secret_values.FORCED_READ_INTERVAL
    seen.append(reader.read(force_fetch=True))

    assert seen == ["AstraCS:same"] * 5 + ["AstraCS:later"]
