"""Who is calling: the caller read from API Gateway's authorizer context, in each auth mode."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from orders_api.errors import ConfigurationError
from orders_api.identity import (
    ANONYMOUS,
    Caller,
    NotAuthenticated,
    admin_principals,
    auth_mode,
    caller_of,
    principal_id,
)

EVENT = json.loads((Path(__file__).parent / "events" / "http_api_v2.json").read_text())


def with_iam(**iam: Any) -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    event["requestContext"]["authorizer"] = {"iam": {**EVENT["requestContext"]["authorizer"]["iam"], **iam}}
    return event


def with_jwt(claims: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        pytest.param(
            "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice", id="user-as-is"
        ),
        pytest.param(
            "arn:aws:sts::123456789012:assumed-role/checkout/i-0abc123",
            "arn:aws:iam::123456789012:role/checkout",
            id="session-becomes-its-role",
        ),
        pytest.param(
            "arn:aws:sts::123456789012:assumed-role/checkout/botocore-session-1796150000",
            "arn:aws:iam::123456789012:role/checkout",
            id="another-session-same-role",
        ),
        pytest.param(
            "arn:aws-cn:sts::123456789012:assumed-role/checkout/s",
            "arn:aws-cn:iam::123456789012:role/checkout",
            id="other-partition",
        ),
        pytest.param(
            "arn:aws:sts::123456789012:federated-user/bob",
            "arn:aws:sts::123456789012:federated-user/bob",
            id="federated-user-as-is",
        ),
        pytest.param("arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:root", id="root-as-is"),
    ],
)
def test_iam_principals_are_normalised_to_stable_ids(arn: str, expected: str) -> None:
    assert principal_id(arn) == expected


def test_an_iam_caller_is_its_principal() -> None:
    caller = caller_of(with_iam(userArn="arn:aws:sts::123456789012:assumed-role/checkout/i-1"), "iam")

    assert caller.id == "iam:arn:aws:iam::123456789012:role/checkout"
    assert caller.kind == "iam"


def test_two_sessions_of_one_role_are_one_caller() -> None:
    first = caller_of(with_iam(userArn="arn:aws:sts::123456789012:assumed-role/checkout/a"), "iam")
    second = caller_of(with_iam(userArn="arn:aws:sts::123456789012:assumed-role/checkout/b"), "iam")

    assert first == second


def test_cognito_identity_pool_users_sharing_a_role_are_told_apart() -> None:
    role = "arn:aws:sts::123456789012:assumed-role/app-users/CognitoIdentityCredentials"
    one = caller_of(with_iam(userArn=role, cognitoIdentity={"identityId": "eu-west-1:aaa"}), "iam")
    two = caller_of(with_iam(userArn=role, cognitoIdentity={"identityId": "eu-west-1:bbb"}), "iam")

    assert one != two


@pytest.mark.parametrize("user_arn", [None, "", "alice", 42])
def test_iam_mode_without_a_principal_is_not_authenticated(user_arn: Any) -> None:
    with pytest.raises(NotAuthenticated):
        caller_of(with_iam(userArn=user_arn), "iam")


def test_iam_mode_without_any_authorizer_is_not_authenticated() -> None:
    event = copy.deepcopy(EVENT)
    del event["requestContext"]["authorizer"]

    with pytest.raises(NotAuthenticated):
        caller_of(event, "iam")


def test_a_jwt_caller_is_its_issuer_and_subject() -> None:
    claims = {"iss": "https://issuer.example.com/", "sub": "user-1", "scope": "orders/read"}

    caller = caller_of(with_jwt(claims), "jwt")

    assert caller.id == "jwt:https://issuer.example.com/#user-1"
    assert caller_of(with_jwt({**claims, "iss": "https://other.example.com/"}), "jwt") != caller


def test_jwt_issuer_and_subject_cannot_be_shifted_into_one_another() -> None:
    one = caller_of(with_jwt({"iss": "https://a#b", "sub": "c"}), "jwt")
    two = caller_of(with_jwt({"iss": "https://a", "sub": "b#c"}), "jwt")

    assert one != two


@pytest.mark.parametrize(
    "claims", [{}, {"sub": "u"}, {"iss": "https://i/"}, {"iss": "https://i/", "sub": ""}]
)
def test_jwt_mode_without_issuer_and_subject_is_not_authenticated(claims: dict[str, Any]) -> None:
    with pytest.raises(NotAuthenticated):
        caller_of(with_jwt(claims), "jwt")


def test_mode_none_is_one_anonymous_caller_whatever_the_event_says() -> None:
    assert caller_of(EVENT, "none") == ANONYMOUS
    assert caller_of({}, "none") == ANONYMOUS


def test_the_mode_defaults_to_iam_and_refuses_unknown_values() -> None:
    assert auth_mode({}) == "iam"
    assert auth_mode({"ORDERS_API_AUTH": "jwt"}) == "jwt"
    with pytest.raises(ConfigurationError, match="ORDERS_API_AUTH"):
        auth_mode({"ORDERS_API_AUTH": "cookie"})


def test_admins_are_the_listed_principals_their_sessions_included() -> None:
    listed = "arn:aws:iam::123456789012:role/ops/operator, arn:aws:iam::123456789012:user/jane"
    admins = admin_principals({"ADMIN_PRINCIPALS": listed})

    def caller(arn: str) -> Caller:
        return caller_of(with_iam(userArn=arn), "iam", admins)

    session = caller("arn:aws:sts::123456789012:assumed-role/operator/s-1")
    jane = caller("arn:aws:iam::123456789012:user/jane")
    alice = caller("arn:aws:iam::123456789012:user/alice")

    assert (session.admin, jane.admin, alice.admin) == (True, True, False)
    assert (session.owner_filter, alice.owner_filter) == (None, alice.id)


def test_jwt_admins_hold_the_admin_scope() -> None:
    claims = {"iss": "https://issuer.example.com/", "sub": "u-1"}
    event = with_jwt(claims)
    event["requestContext"]["authorizer"]["jwt"]["scopes"] = ["orders/read", "orders/admin"]

    assert caller_of(event, "jwt").admin is True
    assert caller_of(with_jwt({**claims, "scope": "orders/read orders/admin"}), "jwt").admin is True
    assert caller_of(with_jwt({**claims, "scope": "orders/read"}), "jwt").admin is False


def test_the_admin_scope_may_come_as_scp_too() -> None:
    claims = {"iss": "https://okta.example.com/", "sub": "svc", "scp": ["orders/read", "orders/admin"]}

    assert caller_of(with_jwt(claims), "jwt").admin is True


@pytest.mark.parametrize(
    "scp", ["[orders/admin orders/read]", "[orders/read orders/admin]", "[orders/admin]"]
)
def test_a_list_claim_as_api_gateway_hands_it_over_still_names_the_admin_scope(scp: str) -> None:
    # Given a token whose "scp" is a JSON list, which HTTP API payload 2.0 flattens to "[a b]"
    claims = {"iss": "https://okta.example.com/", "sub": "svc", "scp": scp}

    # Then its admin scope is recognised wherever it stands in the list
    assert caller_of(with_jwt(claims), "jwt").admin is True


def test_brackets_do_not_make_a_scope_out_of_something_else() -> None:
    claims = {"iss": "https://okta.example.com/", "sub": "svc", "scp": "[orders/read orders/administrator]"}

    assert caller_of(with_jwt(claims), "jwt").admin is False
