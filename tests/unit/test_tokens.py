"""Where store tokens come from: a password login, a Secrets Manager secret, or the secret's text itself.

Stargate's ``/v1/auth`` is played by ``responses``; Secrets Manager by a stand-in for the two ways the
function reads a secret (the Parameters and Secrets extension, and Secrets Manager itself for a forced
re-read; both are tested on their own in ``test_secret_values.py``). No token or password may ever
show in an error or a repr.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from orders_api import secret_values
from orders_api.errors import ConfigurationError, StoreError, StoreTimeout, StoreUnavailable
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken, Login, PasswordLogin, SecretToken, parse_secret
from tests.fakes import refused_connection

AUTH_URL = "http://stargate.test:8081"
AUTH_ENDPOINT = f"{AUTH_URL}/v1/auth"
USERNAME = "cassandra"
PASSWORD = "pa55-word-7d21"
SECRET_ID = "orders/stargate"


def assert_no_secret(error: BaseException, *secrets: str) -> None:
    texts = [str(error), repr(error)]
    for secret in secrets:
        assert all(secret not in text for text in texts), f"{secret!r} leaked into {texts!r}"


@pytest.fixture
def stargate() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def login_answers(mock: responses.RequestsMock, *tokens: str, password: str = PASSWORD) -> None:
    """Stargate's auth API handing out ``tokens``, one per login, for the given credentials."""
    for token in tokens:
        mock.post(
            AUTH_ENDPOINT,
            json={"authToken": token},
            status=201,
            match=[matchers.json_params_matcher({"username": USERNAME, "password": password})],
        )


def password_login(auth_url: str = AUTH_URL) -> PasswordLogin:
    return PasswordLogin(auth_url, Login(USERNAME, PASSWORD), new_session(), (1.0, 2.0))


# --- FixedToken and Login ----------------------------------------------------------------------------


def test_fixed_token_is_given_as_is_and_cannot_be_renewed() -> None:
    # Given a fixed token
    tokens = FixedToken("AstraCS:abc")

    # When it is asked for, and renewed after a rejection
    # Then it is the same token and there is nothing newer
    assert tokens.token() == "AstraCS:abc"
    assert tokens.renew("AstraCS:abc") is False


def test_login_repr_and_str_hide_the_password() -> None:
    # Given a login
    login = Login(USERNAME, PASSWORD)

    # When it is printed (a log line, a traceback)
    # Then the username shows and the password does not
    for text in (repr(login), str(login), f"{login}", repr([login])):
        assert PASSWORD not in text
        assert USERNAME in text


# --- PasswordLogin -----------------------------------------------------------------------------------


def test_password_login_gets_the_token_from_the_auth_api(stargate: responses.RequestsMock) -> None:
    # Given Stargate's auth API accepts the credentials (201, as Stargate answers)
    login_answers(stargate, "token-1")

    # When a token is asked for (the auth URL given with a trailing slash)
    token = password_login(AUTH_URL + "/").token()

    # Then it is the issued token
    assert token == "token-1"
    assert stargate.calls[0].request.url == AUTH_ENDPOINT


def test_password_login_accepts_200_too(stargate: responses.RequestsMock) -> None:
    # Given an auth service that answers 200
    stargate.post(AUTH_ENDPOINT, json={"authToken": "token-200"}, status=200)

    # When a token is asked for
    # Then it is the issued token
    assert password_login().token() == "token-200"


def test_password_login_keeps_its_token_across_calls(stargate: responses.RequestsMock) -> None:
    # Given Stargate's auth API
    login_answers(stargate, "token-1")
    tokens = password_login()

    # When many calls ask for a token
    seen = {tokens.token() for _ in range(10)}

    # Then one login served them all
    assert seen == {"token-1"}
    assert len(stargate.calls) == 1


def test_password_login_renews_a_rejected_token(stargate: responses.RequestsMock) -> None:
    # Given a login whose token was rejected
    login_answers(stargate, "token-1", "token-2")
    tokens = password_login()
    rejected = tokens.token()

    # When it is renewed
    renewed = tokens.renew(rejected)

    # Then a new login gave a different token, used from now on
    assert renewed is True
    assert tokens.token() == "token-2"
    assert len(stargate.calls) == 2


def test_password_login_does_not_renew_a_token_another_caller_already_replaced(
    stargate: responses.RequestsMock,
) -> None:
    # Given two callers rejected with the same token, and the first one already renewed it
    login_answers(stargate, "token-1", "token-2")
    tokens = password_login()
    rejected = tokens.token()
    tokens.renew(rejected)

    # When the second caller renews the same rejected token
    renewed = tokens.renew(rejected)

    # Then it gets the already renewed token without a third login
    assert renewed is True
    assert tokens.token() == "token-2"
    assert len(stargate.calls) == 2


@pytest.mark.parametrize(
    ("status", "description"),
    [
        pytest.param(
            401,
            f"Failed to create token: Provided username {USERNAME} and/or password are incorrect",
            id="401-wrong-password",
        ),
        pytest.param(400, "Must provide password in request", id="400"),
    ],
)
def test_password_login_refused_names_username_and_password_but_never_the_password(
    stargate: responses.RequestsMock, status: int, description: str
) -> None:
    # Given the auth API refuses the credentials
    stargate.post(AUTH_ENDPOINT, json={"description": description}, status=status)

    # When a token is asked for
    with pytest.raises(StoreError) as raised:
        password_login().token()

    # Then the error says the username and password were refused, without showing the password
    message = str(raised.value)
    assert "username and password" in message
    assert "refused" in message
    assert raised.value.status_code == 502
    assert_no_secret(raised.value, PASSWORD)


@pytest.mark.parametrize(
    ("failure", "error_type"),
    [
        pytest.param(refused_connection(AUTH_ENDPOINT), StoreUnavailable, id="connection-error"),
        pytest.param(requests.ConnectTimeout("slow"), StoreTimeout, id="connect-timeout"),
        pytest.param(requests.ReadTimeout("slow"), StoreTimeout, id="read-timeout"),
    ],
)
def test_password_login_network_failures_become_domain_errors(
    stargate: responses.RequestsMock, failure: Exception, error_type: type[StoreError]
) -> None:
    # Given the auth API cannot be reached
    stargate.post(AUTH_ENDPOINT, body=failure)

    # When a token is asked for
    # Then the caller gets the matching domain error, without the password
    with pytest.raises(error_type) as raised:
        password_login().token()
    assert_no_secret(raised.value, PASSWORD)


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        pytest.param(503, StoreUnavailable, id="503"),
        pytest.param(502, StoreUnavailable, id="502"),
        pytest.param(504, StoreTimeout, id="504"),
        pytest.param(500, StoreError, id="500"),
    ],
)
def test_password_login_server_failures_become_domain_errors(
    stargate: responses.RequestsMock, status: int, error_type: type[StoreError]
) -> None:
    # Given the auth API fails
    stargate.post(AUTH_ENDPOINT, status=status)

    # When a token is asked for
    with pytest.raises(error_type) as raised:
        password_login().token()

    # Then the caller gets the matching error; a login is safe to repeat, so transient failures were
    # attempted three times and others once
    assert type(raised.value) is error_type
    assert len(stargate.calls) == (1 if error_type is StoreError else 3)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"token": "wrong-field"}', id="no-authToken"),
        pytest.param('{"authToken": ""}', id="empty-token"),
        pytest.param('{"authToken": 42}', id="not-a-string"),
        pytest.param("[]", id="array"),
        pytest.param("<html></html>", id="not-json"),
    ],
)
def test_password_login_answer_without_a_token_is_a_store_error(
    stargate: responses.RequestsMock, body: str
) -> None:
    # Given the auth API answers 201 without a usable token
    stargate.post(AUTH_ENDPOINT, body=body, status=201)

    # When a token is asked for
    # Then the caller gets a store error
    with pytest.raises(StoreError, match="without a usable token"):
        password_login().token()


# --- parse_secret ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        pytest.param("AstraCS:plain-token", "AstraCS:plain-token", id="plain-token"),
        pytest.param("  \n plain-token \t\n", "plain-token", id="plain-token-with-whitespace"),
        pytest.param('{"token": "json-token"}', "json-token", id="json-token"),
        pytest.param(' \n{"token": "  json-token  "}\n', "json-token", id="json-token-with-whitespace"),
        pytest.param(
            '{"username": "cassandra", "password": "cassandra"}',
            Login("cassandra", "cassandra"),
            id="json-credentials",
        ),
        pytest.param(
            '{"token": "", "username": "u", "password": "p"}', Login("u", "p"), id="empty-token-credentials"
        ),
    ],
)
def test_parse_secret_reads_every_accepted_shape(secret: str, expected: str | Login) -> None:
    # Given a secret in one of the accepted shapes
    # When it is parsed
    # Then it is the token, or the login that gets one
    assert parse_secret(secret) == expected


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("", id="empty"),
        pytest.param("  \n\t ", id="whitespace"),
        pytest.param("{}", id="empty-object"),
        pytest.param('{"foo": 1}', id="unknown-keys"),
        pytest.param('{"token": "SeCrEt-value-1"', id="invalid-json"),
        pytest.param('{token: "SeCrEt-value-1"}', id="invalid-json-unquoted"),
        pytest.param('{"token": 7}', id="token-not-a-string"),
        pytest.param('{"token": "   "}', id="blank-token"),
        pytest.param("AstraCS:SeCrEt-value-1\nX-Injected: yes", id="token-with-a-line-break"),
        pytest.param("AstraCS:SeCrEt-value-1 second-word", id="token-with-a-space"),
        pytest.param('{"token": "AstraCS:SeCrEt-value-1\\r\\nX: y"}', id="json-token-with-a-line-break"),
        pytest.param("AstraCS:SeCrEt-value-1\u00e9", id="token-not-ascii"),
        pytest.param('{"username": "SeCrEt-value-1"}', id="username-only"),
        pytest.param('{"password": "SeCrEt-value-1"}', id="password-only"),
        pytest.param('{"username": "admin", "password": ""}', id="empty-password"),
        pytest.param('{"username": "admin", "password": 12345}', id="password-not-a-string"),
    ],
)
def test_parse_secret_rejects_other_shapes_without_showing_the_value(secret: str) -> None:
    # Given a secret in no accepted shape
    # When it is parsed
    with pytest.raises(ConfigurationError) as raised:
        parse_secret(secret)

    # Then the error says what is expected, never what the secret holds
    assert "SeCrEt-value-1" not in str(raised.value)
    assert "admin" not in str(raised.value)
    assert "store secret" in str(raised.value)


# --- SecretToken -------------------------------------------------------------------------------------


class FakeSecretsManager:
    """Stands in for both ways of reading a secret: holds one value, which a test may rotate."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.calls: list[dict[str, Any]] = []
        self.failure: Exception | None = None

    def read(self, secret_id: str, what: str, force_fetch: bool) -> dict[str, Any]:
        self.calls.append({"name": secret_id, "force_fetch": force_fetch})
        if self.failure is not None:
            raise self.failure
        if isinstance(self.value, bytes):
            return {"Name": secret_id, "SecretBinary": self.value}
        return {"Name": secret_id, "SecretString": self.value}


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> FakeSecretsManager:
    fake = FakeSecretsManager("")
    monkeypatch.setattr(secret_values, "from_extension", lambda name, what: fake.read(name, what, False))
    monkeypatch.setattr(secret_values, "from_secrets_manager", lambda name, what: fake.read(name, what, True))
    return fake


def secret_token(max_age: int = 120) -> SecretToken:
    session = new_session()
    return SecretToken(SECRET_ID, max_age, lambda login: PasswordLogin(AUTH_URL, login, session, (1.0, 2.0)))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("token-from-secret", id="plain"),
        pytest.param('{"token": "token-from-secret"}', id="json-token"),
    ],
)
def test_secret_token_reads_the_token_from_the_cached_secret(secrets: FakeSecretsManager, value: str) -> None:
    # Given the secret holds a token
    secrets.value = value

    # When a token is asked for
    token = secret_token(max_age=120).token()

    # Then it is the secret's token, read once through the extension
    assert token == "token-from-secret"
    assert secrets.calls == [{"name": SECRET_ID, "force_fetch": False}]


def test_secret_token_with_credentials_logs_in_once(
    secrets: FakeSecretsManager, stargate: responses.RequestsMock
) -> None:
    # Given the secret holds a username and password
    secrets.value = f'{{"username": "{USERNAME}", "password": "{PASSWORD}"}}'
    login_answers(stargate, "token-1")
    tokens = secret_token()

    # When tokens are asked for several times
    seen = [tokens.token() for _ in range(3)]

    # Then one login with those credentials served them all
    assert seen == ["token-1"] * 3
    assert len(stargate.calls) == 1


def test_secret_token_plain_token_not_rotated_cannot_be_renewed(secrets: FakeSecretsManager) -> None:
    # Given the secret's plain token was rejected and nobody rotated it
    secrets.value = "token-1"
    tokens = secret_token()
    rejected = tokens.token()

    # When it is renewed
    renewed = tokens.renew(rejected)

    # Then the secret was read past the cache, and there is nothing newer
    assert renewed is False
    assert secrets.calls[-1]["force_fetch"] is True


def test_secret_token_plain_token_rotated_is_picked_up_on_renewal(secrets: FakeSecretsManager) -> None:
    # Given the secret's plain token was rejected because it has been rotated
    secrets.value = "token-1"
    tokens = secret_token()
    rejected = tokens.token()
    secrets.value = "token-2"

    # When it is renewed
    renewed = tokens.renew(rejected)

    # Then the rotated token was fetched past the cache and is used from now on
    assert renewed is True
    assert secrets.calls[-1]["force_fetch"] is True
    assert tokens.token() == "token-2"


def test_secret_token_with_credentials_renews_by_logging_in_again(
    secrets: FakeSecretsManager, stargate: responses.RequestsMock
) -> None:
    # Given a token obtained with the secret's credentials was rejected
    secrets.value = f'{{"username": "{USERNAME}", "password": "{PASSWORD}"}}'
    login_answers(stargate, "token-1", "token-2")
    tokens = secret_token()
    rejected = tokens.token()

    # When it is renewed
    renewed = tokens.renew(rejected)

    # Then a new login gave the token used from now on
    assert renewed is True
    assert tokens.token() == "token-2"
    assert len(stargate.calls) == 2


def test_secret_token_uses_rotated_credentials(
    secrets: FakeSecretsManager, stargate: responses.RequestsMock
) -> None:
    # Given the secret's password was rotated after a first login
    secrets.value = f'{{"username": "{USERNAME}", "password": "{PASSWORD}"}}'
    login_answers(stargate, "token-1")
    login_answers(stargate, "token-new", password="rotated-pw")
    tokens = secret_token(max_age=0)  # the cache has expired when the password changes
    tokens.token()
    secrets.value = f'{{"username": "{USERNAME}", "password": "rotated-pw"}}'

    # When a token is asked for once the cache has the new value
    token = tokens.token()

    # Then it comes from a login with the new password
    assert token == "token-new"


def test_secret_that_cannot_be_read_is_a_store_error(secrets: FakeSecretsManager) -> None:
    # Given Secrets Manager cannot give the secret
    secrets.failure = secret_values.SecretUnreadable(
        "The store secret could not be read from Secrets Manager."
    )

    # When a token is asked for
    # Then the caller gets a store failure (502), not a Powertools exception
    with pytest.raises(StoreError, match="Secrets Manager") as raised:
        secret_token().token()
    assert raised.value.status_code == 502


def test_binary_secret_is_a_configuration_error(secrets: FakeSecretsManager) -> None:
    # Given the secret is binary
    secrets.value = b"token-bytes"

    # When a token is asked for
    # Then the error says the secret must be a string
    with pytest.raises(ConfigurationError, match="string"):
        secret_token().token()


def test_malformed_secret_is_a_configuration_error_without_its_value(secrets: FakeSecretsManager) -> None:
    # Given the secret holds JSON in no accepted shape
    secrets.value = '{"user": "admin", "pass": "SeCrEt-value-2"}'

    # When a token is asked for
    # Then the error does not show the secret
    with pytest.raises(ConfigurationError) as raised:
        secret_token().token()
    assert_no_secret(raised.value, "SeCrEt-value-2")
