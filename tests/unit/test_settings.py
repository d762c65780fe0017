"""StoreSettings.from_env: what a deployment gets from its environment, and what it is told when wrong."""

from __future__ import annotations

import pytest

from orders_api import settings as settings_module
from orders_api.errors import ConfigurationError
from orders_api.names import FORMER_NAMES
from orders_api.settings import Credentials, StoreSettings

TOKEN = "tok-3c9e1f77-secret"
PASSWORD = "pw-81b0-secret"
MINIMAL = {
    "STORE_URL": "http://stargate.test:8082",
    "STORE_NAMESPACE": "shop",
    "STORE_TOKEN": TOKEN,
}


def env(**changes: str | None) -> dict[str, str]:
    """The minimal valid environment with ``changes`` applied (None removes a variable)."""
    result = dict(MINIMAL)
    for name, value in changes.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def settings_or_error(environment: dict[str, str]) -> StoreSettings | ConfigurationError:
    try:
        return StoreSettings.from_env(environment)
    except ConfigurationError as error:
        return error


def configuration_error(environment: dict[str, str]) -> str:
    with pytest.raises(ConfigurationError) as raised:
        StoreSettings.from_env(environment)
    return str(raised.value)


# --- what a valid environment gives ------------------------------------------------------------------


def test_minimal_environment_gets_the_defaults() -> None:
    # Given only the URL, the namespace and a token
    # When the settings are read
    settings = StoreSettings.from_env(MINIMAL)

    # Then everything else has its default: the Data API, which Astra speaks today
    assert settings == StoreSettings(
        store_api="data",
        base_url="http://stargate.test:8082",
        auth_url=None,
        namespace="shop",
        collection="orders",
        credentials=Credentials(token=TOKEN),
        secret_max_age=300,
        connect_timeout=3.05,
        read_timeout=8.0,
    )


def test_every_setting_can_be_given() -> None:
    # Given every variable, with trailing slashes and surrounding spaces
    environment = {
        "ORDERS_STORE_API": "documents",
        "STORE_URL": " https://db-eu.apps.astra.datastax.com/api/rest/ ",
        "STORE_AUTH_URL": "http://auth.test:8081/",
        "STORE_NAMESPACE": "Shop_2",
        "STORE_COLLECTION": "orders_v2",
        "STORE_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders",
        "SECRET_MAX_AGE_SECONDS": "60",
        "STORE_CONNECT_TIMEOUT": "1.5",
        "STORE_READ_TIMEOUT": "20",
    }

    # When the settings are read
    settings = StoreSettings.from_env(environment)

    # Then each is taken, URLs without their trailing slash
    assert settings.base_url == "https://db-eu.apps.astra.datastax.com/api/rest"
    assert settings.auth_url == "http://auth.test:8081"
    assert settings.namespace == "Shop_2"
    assert settings.collection == "orders_v2"
    assert settings.credentials == Credentials(
        secret_id="arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders"
    )
    assert settings.secret_max_age == 60
    assert settings.connect_timeout == 1.5
    assert settings.read_timeout == 20.0


def test_username_and_password_are_credentials() -> None:
    # Given a username and a password instead of a token
    environment = env(STORE_TOKEN=None, STORE_USERNAME="cassandra", STORE_PASSWORD=PASSWORD)

    # When the settings are read
    settings = StoreSettings.from_env(environment)

    # Then they are the credentials
    assert settings.credentials == Credentials(username="cassandra", password=PASSWORD)


def test_without_a_mapping_the_process_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the process environment holds the settings
    for name, value in env(STORE_COLLECTION="orders_env").items():
        monkeypatch.setenv(name, value)
    for name in ("STORE_SECRET_ID", "STORE_USERNAME", "STORE_PASSWORD", "ORDERS_STORE_API"):
        monkeypatch.delenv(name, raising=False)

    # When the settings are read without a mapping
    settings = StoreSettings.from_env()

    # Then they come from the environment
    assert settings.collection == "orders_env"


def test_blank_collection_falls_back_to_orders() -> None:
    # Given the collection variable is set but blank
    # When the settings are read
    # Then the default collection is used
    assert StoreSettings.from_env(env(STORE_COLLECTION="  ")).collection == "orders"


# --- what a wrong environment is told ----------------------------------------------------------------


@pytest.mark.parametrize("variable", ["STORE_URL", "STORE_NAMESPACE"])
@pytest.mark.parametrize("value", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_missing_required_variable_is_named(variable: str, value: str | None) -> None:
    # Given a required variable is absent or blank
    # When the settings are read
    message = configuration_error(env(**{variable: value}))

    # Then the error names it
    assert f"{variable} is not set" in message


def test_every_problem_is_reported_at_once() -> None:
    # Given several variables are wrong
    message = configuration_error(
        {"STORE_URL": "not a url", "STORE_READ_TIMEOUT": "soon", "ORDERS_STORE_API": "dataapi"}
    )

    # When the settings are read
    # Then one error lists them all
    for variable in (
        "STORE_URL",
        "STORE_NAMESPACE",
        "STORE_READ_TIMEOUT",
        "ORDERS_STORE_API",
        "STORE_TOKEN",
    ):
        assert variable in message


@pytest.mark.parametrize("variable", ["STORE_URL", "STORE_AUTH_URL"])
@pytest.mark.parametrize(
    "url", ["stargate.test:8082", "ftp://stargate.test", "http://", "/v2/namespaces", "https//stargate.test"]
)
def test_url_that_is_not_http_is_named(variable: str, url: str) -> None:
    # Given a URL that is not an http(s) URL
    # When the settings are read
    message = configuration_error(env(**{variable: url}))

    # Then the error names the variable
    assert f"{variable} must be an http(s) URL" in message


@pytest.mark.parametrize("variable", ["STORE_NAMESPACE", "STORE_COLLECTION"])
@pytest.mark.parametrize("name", ["my-shop", "shop.orders", "shöp", "a" * 49, "shop orders"])
def test_name_that_is_not_an_identifier_is_named(variable: str, name: str) -> None:
    # Given a namespace or collection name Stargate would refuse
    # When the settings are read
    message = configuration_error(env(**{variable: name}))

    # Then the error names the variable
    assert f"{variable} must be letters, digits or underscores" in message


def test_name_of_48_characters_is_accepted() -> None:
    # Given the longest namespace Cassandra allows
    # When the settings are read
    # Then it is accepted
    assert StoreSettings.from_env(env(STORE_NAMESPACE="n" * 48)).namespace == "n" * 48


def test_unknown_store_api_is_named() -> None:
    # Given a store API this build does not have
    # When the settings are read
    message = configuration_error(env(ORDERS_STORE_API="dataapi"))

    # Then the error names the variable and the choices
    assert "ORDERS_STORE_API must be one of data, documents" in message


CHOOSE_ONE = "set exactly one of STORE_SECRET_ID, STORE_TOKEN, or STORE_USERNAME with STORE_PASSWORD"
NUMBERS = ["STORE_CONNECT_TIMEOUT", "STORE_READ_TIMEOUT", "SECRET_MAX_AGE_SECONDS"]


def test_no_credentials_names_the_choices() -> None:
    # Given no credentials at all
    # When the settings are read
    message = configuration_error(env(STORE_TOKEN=None))

    # Then the error names the variables to choose from
    assert CHOOSE_ONE in message


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"STORE_SECRET_ID": "orders/stargate"}, id="token-and-secret"),
        pytest.param({"STORE_USERNAME": "cassandra", "STORE_PASSWORD": PASSWORD}, id="token-and-login"),
        pytest.param({"STORE_PASSWORD": PASSWORD}, id="token-and-password"),
    ],
)
def test_two_kinds_of_credentials_are_refused_without_showing_them(credentials: dict[str, str]) -> None:
    # Given a token plus another kind of credentials
    # When the settings are read
    message = configuration_error(env(**credentials))

    # Then the error names the variables and shows neither token nor password
    assert CHOOSE_ONE in message
    assert TOKEN not in message
    assert PASSWORD not in message


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"STORE_USERNAME": "cassandra"}, id="username-only"),
        pytest.param({"STORE_PASSWORD": PASSWORD}, id="password-only"),
    ],
)
def test_username_and_password_go_together(credentials: dict[str, str]) -> None:
    # Given half a login
    # When the settings are read
    message = configuration_error(env(STORE_TOKEN=None, **credentials))

    # Then the error says both are needed, without showing the password
    assert "STORE_USERNAME and STORE_PASSWORD go together" in message
    assert PASSWORD not in message


@pytest.mark.parametrize("variable", NUMBERS)
@pytest.mark.parametrize("value", ["0", "-1", "-0.5", "soon", "1s", "1,5"])
def test_number_that_is_not_positive_is_named(variable: str, value: str) -> None:
    # Given a timeout or max age that is not a positive number
    # When the settings are read
    message = configuration_error(env(**{variable: value}))

    # Then the error names the variable
    assert f"{variable} must be a positive number" in message


# float() parses "nan" and "inf": a nan/inf timeout would make every store call fail with a bare
# ValueError/OverflowError from socket.settimeout.
@pytest.mark.parametrize("variable", NUMBERS)
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_number_that_is_not_finite_is_named(variable: str, value: str) -> None:
    # Given a timeout or max age that is not a finite number
    # When the settings are read
    message = configuration_error(env(**{variable: value}))

    # Then the error names the variable
    assert f"{variable} must be a positive number" in message


# Powertools does not cache a value whose max_age is 0: every store call would read Secrets Manager.
def test_fractional_secret_max_age_never_becomes_zero() -> None:
    # Given a secret max age below one second
    environment = env(SECRET_MAX_AGE_SECONDS="0.5")

    # When the settings are read
    outcome = settings_or_error(environment)

    # Then it is either refused by name or kept positive
    if isinstance(outcome, ConfigurationError):
        assert "SECRET_MAX_AGE_SECONDS" in str(outcome)
    else:
        assert outcome.secret_max_age >= 1


@pytest.mark.parametrize("token", [f"{TOKEN}\nX-Injected: yes", f"{TOKEN} x", f"{TOKEN}\x00"])
def test_a_token_that_cannot_travel_in_a_header_is_refused_without_showing_it(token: str) -> None:
    environment = {
        "STORE_URL": "http://localhost:8082",
        "STORE_NAMESPACE": "shop",
        "STORE_TOKEN": token,
    }

    with pytest.raises(ConfigurationError) as raised:
        StoreSettings.from_env(environment)

    assert "STORE_TOKEN" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_error_message_never_shows_the_token_or_password() -> None:
    # Given a broken environment full of credentials
    environment = {
        "STORE_URL": "nope",
        "STORE_TOKEN": TOKEN,
        "STORE_USERNAME": "cassandra",
        "STORE_PASSWORD": PASSWORD,
        "STORE_SECRET_ID": "orders/stargate",
        "STORE_READ_TIMEOUT": "-1",
    }

    # When the settings are read
    message = configuration_error(environment)

    # Then no secret value is in the error
    assert TOKEN not in message
    assert PASSWORD not in message


def test_repr_of_settings_and_credentials_hides_token_and_password() -> None:
    # Given settings holding a token, and credentials holding a password
    settings = StoreSettings.from_env(MINIMAL)
    login = Credentials(username="cassandra", password=PASSWORD)

    # When they are printed (a log line, a traceback)
    texts = [repr(settings), str(settings), repr(settings.credentials), repr(login), str(login)]

    # Then neither the token nor the password shows
    for text in texts:
        assert TOKEN not in text
        assert PASSWORD not in text
    assert "***" in repr(settings.credentials)


# --- the former STARGATE_* names ---------------------------------------------------------------------


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: no former name warned about yet."""
    monkeypatch.setattr(settings_module, "_warned", set())


@pytest.mark.usefixtures("fresh_warnings")
def test_a_former_name_still_works_and_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    # Given a deployment that still sets the former names only
    current = {**env(STORE_TOKEN=None), "STORE_USERNAME": "cassandra", "STORE_PASSWORD": PASSWORD}
    former = {FORMER_NAMES[name]: value for name, value in current.items()}

    # When the settings are read twice (a second request of a warm function)
    first = StoreSettings.from_env(former)
    second = StoreSettings.from_env(former)

    # Then the former names give what the new ones would
    assert first == second == StoreSettings.from_env(current)
    # And each former name is warned about once, naming the new one and never the value
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert sorted(warnings) == sorted(
        f"{FORMER_NAMES[name]} is a former name: set {name} instead" for name in current
    )
    assert all(PASSWORD not in text for text in caplog.messages)


@pytest.mark.usefixtures("fresh_warnings")
def test_the_new_name_wins_quietly_when_both_are_set_alike(caplog: pytest.LogCaptureFixture) -> None:
    # Given both names with the same value
    settings = StoreSettings.from_env(env(STARGATE_NAMESPACE="shop"))

    # Then the value is used, and there is nothing to warn about
    assert settings.namespace == "shop"
    assert [record for record in caplog.records if record.levelname == "WARNING"] == []


def test_both_names_with_different_values_are_refused_naming_both() -> None:
    # Given the former and the new name of a setting, each with its own value
    message = configuration_error(env(STARGATE_TOKEN="another-token", STARGATE_URL="http://other.test"))

    # Then the error names both of each pair, and neither value
    assert (
        "STARGATE_TOKEN (the former name of STORE_TOKEN) and STORE_TOKEN are both set and differ" in message
    )
    assert "STARGATE_URL (the former name of STORE_URL) and STORE_URL" in message
    assert "another-token" not in message
    assert TOKEN not in message
