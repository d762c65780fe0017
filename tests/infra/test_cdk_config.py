"""Deployment settings: what cdk.json gives, what -c may override, and errors that name the key."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from cdk_app.config import DEFAULT_STORE_API, DEFAULTS, ConfigError, OrdersApiConfig
from cdk_app.stack import add_orders_api
from tests.infra.synthesis import cdk_json_context

pytestmark = pytest.mark.infra


def _config(**overrides: Any) -> OrdersApiConfig:
    context = {**cdk_json_context(), **overrides}
    return OrdersApiConfig.from_context(context.get)


def test_cdk_json_lists_every_key_with_the_default_the_code_uses() -> None:
    context = cdk_json_context()

    assert {key: context[key] for key in DEFAULTS} == DEFAULTS
    assert DEFAULTS["storeApi"] == DEFAULT_STORE_API == "data"


def test_defaults_are_valid_so_synth_needs_no_flags() -> None:
    config = _config()

    assert config.api_auth == "iam"
    assert config.store_api == "data"
    assert config.existing_secret is None
    assert config.alarm_email is None
    assert config.cors_allow_origins == ()
    assert config.uses_placeholder_url


def test_missing_keys_fall_back_to_the_defaults() -> None:
    assert OrdersApiConfig.from_context(lambda key: None) == _config()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("storeUrl", ""),
        ("storeUrl", "ftp://files.example.com"),
        ("storeUrl", "https://host.example.com/api?x=1"),
        ("storeAuthUrl", "not a url"),
        ("storeNamespace", "orders-prod"),
        ("storeCollection", ""),
        ("storeApi", "graphql"),
        ("existingSecret", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders"),
        ("existingSecret", "name with spaces"),
        ("apiAuth", "cognito"),
        ("throttleRateLimit", "fast"),
        ("throttleRateLimit", 0),
        ("throttleBurstLimit", "1.5"),
        ("throttleBurstLimit", True),
        ("memorySize", 64),
        ("memorySize", "20000"),
        ("logRetentionDays", 10),
        ("logLevel", "verbose"),
        ("alarmEmail", "oncall"),
        ("corsAllowOrigins", "https://shop.example.com/app"),
        ("corsAllowOrigins", 42),
        ("tracing", "maybe"),
        ("tracing", 1),
    ],
)
def test_an_invalid_value_fails_with_a_message_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError) as raised:
        _config(**{key: value})

    assert raised.value.keys == (key,)
    assert str(raised.value).startswith(f"{key}: ")


def test_every_bad_key_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        _config(apiAuth="open", memorySize="lots")

    assert set(raised.value.keys) == {"apiAuth", "memorySize"}


def test_invalid_configuration_stops_the_synth_before_anything_is_built() -> None:
    app = App(context={**cdk_json_context(), "storeApi": "sql"})

    with pytest.raises(ConfigError, match="storeApi"):
        add_orders_api(app)
    assert app.node.children == []


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("apiauth", "did you mean apiAuth?"),
        ("storeURL", "did you mean storeUrl?"),
        ("snapstart", "did you mean snapStart?"),
        ("tracng", "did you mean tracing?"),
        ("colour", "see docs/configuration.md"),
    ],
)
def test_an_unknown_context_key_stops_the_synth_saying_what_it_may_have_meant(key: str, hint: str) -> None:
    # Given a misspelled key, which would otherwise be ignored and the default deployed (IAM auth)
    app = App(context={**cdk_json_context(), key: "jwt"})

    with pytest.raises(ConfigError) as raised:
        add_orders_api(app)

    assert raised.value.keys == (key,)
    assert f"{key}: is not a setting of this app; {hint}" in str(raised.value)
    assert app.node.children == []


def test_the_cdks_own_context_keys_are_not_mistaken_for_settings() -> None:
    context = {
        **cdk_json_context(),
        "aws:cdk:enable-path-metadata": True,
        "availability-zones:account=123456789012:region=eu-west-1": ["eu-west-1a"],
        "acknowledged-issue-numbers": [1],
    }

    assert OrdersApiConfig.from_context(context.get, context).stage == "dev"


@pytest.mark.parametrize(
    ("key", "value", "attribute", "expected"),
    [
        ("apiAuth", "NONE", "api_auth", "none"),
        ("logLevel", "warning", "log_level", "WARNING"),
        ("throttleRateLimit", "12.5", "throttle_rate_limit", 12.5),
        ("memorySize", "1769", "memory_size", 1769),
        ("existingSecret", "orders/astra-token", "existing_secret", "orders/astra-token"),
        ("storeUrl", "http://localhost:8082/", "store_url", "http://localhost:8082"),
        ("corsAllowOrigins", ["*"], "cors_allow_origins", ("*",)),
        ("tracing", "false", "tracing", False),
        ("tracing", " True ", "tracing", True),
        ("retainSecret", "false", "retain_secret", False),
    ],
)
def test_values_are_read_the_way_a_deployer_writes_them(
    key: str, value: object, attribute: str, expected: object
) -> None:
    assert getattr(_config(**{key: value}), attribute) == expected


@pytest.mark.parametrize(
    ("store_api", "url", "warned"),
    [
        ("data", "https://abc-eu-west-1.apps.astra.datastax.com/api/json", False),
        ("data", "https://abc-eu-west-1.apps.astra.datastax.com/api/rest", True),
        ("documents", "http://stargate.internal:8082/api/rest", False),
        ("documents", "https://abc-eu-west-1.apps.astra.datastax.com/api/json/", True),
        ("documents", "http://localhost:8082", False),
    ],
)
def test_a_url_for_the_other_store_api_is_pointed_out(store_api: str, url: str, warned: bool) -> None:
    mismatch = _config(storeApi=store_api, storeUrl=url).api_path_mismatch

    assert (mismatch is not None) == warned
    if mismatch is not None:
        assert f"storeApi is {store_api}" in mismatch


def test_a_kms_key_is_an_arn_and_goes_with_an_existing_secret() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab"
    assert _config(existingSecret="orders/token", existingSecretKmsKey=key).existing_secret_kms_key == key
    with pytest.raises(ConfigError) as alone:
        _config(existingSecretKmsKey=key)
    assert alone.value.keys == ("existingSecretKmsKey",)
    with pytest.raises(ConfigError) as malformed:
        _config(existingSecret="orders/token", existingSecretKmsKey="alias/orders")
    assert malformed.value.keys == ("existingSecretKmsKey",)


@pytest.mark.parametrize("stage", ["Prod", "", "prod_1", "p" * 21, "-dev", "aws-dev", "cognito"])
def test_a_stage_name_must_fit_a_stack_and_resource_names(stage: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _config(stage=stage)
    assert raised.value.keys == ("stage",)


def test_a_stage_block_with_an_unknown_setting_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        _config(stage="prod", stages={"prod": {"memorySise": 1024}})
    assert raised.value.keys == ("stages",)
    assert "memorySise" in str(raised.value)


def test_a_stage_blocks_settings_win_over_the_top_level_ones() -> None:
    config = _config(stage="prod", memorySize=2048, stages={"prod": {"memorySize": 1024}})

    assert (config.stage, config.memory_size) == ("prod", 1024)


def test_an_unknown_deployment_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError) as raised:
        _config(deployment="canary50")
    assert raised.value.keys == ("deployment",)
    assert "canary10Percent5Minutes" in str(raised.value)


@pytest.mark.parametrize(
    "principals",
    ["arn:aws:sts::123456789012:assumed-role/x/y", "operator", ["arn:aws:iam::123456789012:group/ops"], 7],
)
def test_admin_principals_are_role_or_user_arns(principals: object) -> None:
    with pytest.raises(ConfigError) as raised:
        _config(adminPrincipals=principals)
    assert raised.value.keys == ("adminPrincipals",)


def test_an_external_issuer_needs_its_audience_and_https() -> None:
    with pytest.raises(ConfigError) as no_audience:
        _config(apiAuth="jwt", jwtIssuer="https://issuer.example.com/")
    assert no_audience.value.keys == ("jwtAudience",)
    with pytest.raises(ConfigError) as plain_http:
        _config(apiAuth="jwt", jwtIssuer="http://issuer.example.com/", jwtAudience="a")
    assert plain_http.value.keys == ("jwtIssuer",)


def test_the_former_stargate_keys_still_work_with_a_warning() -> None:
    # Given a deployer who still writes the former keys, beside cdk.json's defaults for the new ones
    config = _config(stargateUrl="http://stargate.internal:8082", stargateNamespace="shop")

    # Then their values are used, and the warnings name old and new key
    assert (config.store_url, config.store_namespace) == ("http://stargate.internal:8082", "shop")
    assert config.warnings == (
        "stargateUrl is a former name: give storeUrl instead (same value)",
        "stargateNamespace is a former name: give storeNamespace instead (same value)",
    )
    assert _config().warnings == ()


def test_a_former_key_in_a_stage_block_is_accepted() -> None:
    config = _config(stage="prod", stages={"prod": {"stargateCollection": "orders_v2"}})

    assert config.store_collection == "orders_v2"
    assert len(config.warnings) == 1


def test_a_former_key_and_its_new_key_with_different_values_are_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        _config(storeNamespace="shop", stargateNamespace="other")

    assert raised.value.keys == ("storeNamespace",)
    assert "former name stargateNamespace" in str(raised.value)
