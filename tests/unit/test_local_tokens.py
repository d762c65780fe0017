"""`make token` and `make run`'s sign-in: tokens checked as API Gateway's JWT authorizer checks them."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from localdev.tokens import AUDIENCE, ISSUER, LocalIssuer, Refused, main
from orders_api.identity import caller_of


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path)


def test_a_token_becomes_the_authorizer_block_a_deployed_function_gets(issuer: LocalIssuer) -> None:
    verdict = issuer.authorize("POST", f"Bearer {issuer.issue('alice')}")

    assert isinstance(verdict, dict)
    assert verdict["jwt"]["claims"]["sub"] == "alice"
    assert verdict["jwt"]["scopes"] == ["orders/read", "orders/write"]
    caller = caller_of({"requestContext": {"authorizer": verdict}}, "jwt")
    assert caller.id == f"jwt:{ISSUER}#alice"
    assert caller.admin is False


def test_without_a_token_the_request_is_the_local_caller(issuer: LocalIssuer) -> None:
    verdict = issuer.authorize("GET", None)

    assert isinstance(verdict, dict)
    assert verdict["jwt"]["claims"]["sub"] == "local"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Basic YWxpY2U6c2VjcmV0", "Bearer ", "Bearer {expired}", "Bearer {foreign}"],
)
def test_an_invalid_token_is_401(issuer: LocalIssuer, tmp_path: Path, authorization: str) -> None:
    expired = issuer.issue("alice", lifetime=-10)
    foreign = LocalIssuer(tmp_path / "elsewhere").issue("alice")

    verdict = issuer.authorize("GET", authorization.format(expired=expired, foreign=foreign))

    assert verdict == Refused(401, "Unauthorized")


def test_a_token_for_another_audience_or_issuer_is_401(issuer: LocalIssuer, tmp_path: Path) -> None:
    issuer.issue("prime-the-key")
    key = (tmp_path / "jwt-key").read_text().strip()
    for claims in ({"iss": ISSUER, "aud": "other"}, {"iss": "https://evil.example", "aud": AUDIENCE}):
        token = jwt.encode({**claims, "sub": "alice", "scope": "orders/read", "exp": 2**40}, key, "HS256")
        assert issuer.authorize("GET", f"Bearer {token}") == Refused(401, "Unauthorized")


def test_a_token_without_the_routes_scope_is_403(issuer: LocalIssuer) -> None:
    reader = issuer.issue("alice", ("orders/read",))

    assert isinstance(issuer.authorize("GET", f"Bearer {reader}"), dict)
    assert issuer.authorize("DELETE", f"Bearer {reader}") == Refused(403, "Forbidden")


def test_the_admin_scope_makes_an_admin(issuer: LocalIssuer) -> None:
    token = issuer.issue("ops", ("orders/read", "orders/write", "orders/admin"))

    verdict = issuer.authorize("GET", f"Bearer {token}")

    assert isinstance(verdict, dict)
    assert caller_of({"requestContext": {"authorizer": verdict}}, "jwt").admin is True


def test_make_token_prints_the_token_as_its_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--sub", "alice", "--data-dir", str(tmp_path)]) == 0
    token = capsys.readouterr().out.splitlines()[-1]

    assert isinstance(LocalIssuer(tmp_path).authorize("POST", f"Bearer {token}"), dict)
    assert (tmp_path / "jwt-key").stat().st_mode & 0o777 == 0o600


def test_a_token_without_an_expiry_or_subject_is_401(issuer: LocalIssuer, tmp_path: Path) -> None:
    issuer.issue("prime-the-key")
    key = (tmp_path / "jwt-key").read_text().strip()
    base = {"iss": ISSUER, "aud": AUDIENCE, "scope": "orders/read", "sub": "alice", "exp": 2**40}
    for missing in ("exp", "sub"):
        claims = {name: value for name, value in base.items() if name != missing}
        token = jwt.encode(claims, key, "HS256")
        assert issuer.authorize("GET", f"Bearer {token}") == Refused(401, "Unauthorized"), missing


def test_an_empty_authorization_header_is_401_not_the_local_caller(issuer: LocalIssuer) -> None:
    assert issuer.authorize("GET", "") == Refused(401, "Unauthorized")


def test_a_short_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "jwt-key").write_text("x")

    with pytest.raises(RuntimeError, match="no usable key"):
        LocalIssuer(tmp_path).issue("alice")


def test_the_function_gets_the_claims_as_api_gateway_hands_them_over(
    issuer: LocalIssuer, tmp_path: Path
) -> None:
    # Given a token with a number claim and a list claim
    issuer.issue("prime-the-key")
    key = (tmp_path / "jwt-key").read_text().strip()
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc", "exp": 2**40, "scope": "orders/read"}
    token = jwt.encode({**claims, "scp": ["orders/read", "orders/admin"]}, key, "HS256")

    # When make run lets it through
    verdict = issuer.authorize("GET", f"Bearer {token}")

    # Then the function sees strings only, a list in brackets, as behind a deployed HTTP API
    assert isinstance(verdict, dict)
    handed = verdict["jwt"]["claims"]
    assert handed["exp"] == str(2**40)
    assert handed["scp"] == "[orders/read orders/admin]"
    assert caller_of({"requestContext": {"authorizer": verdict}}, "jwt").admin is True


def test_each_refusal_says_why_for_the_console_without_the_token(issuer: LocalIssuer, tmp_path: Path) -> None:
    expired = issuer.issue("alice", lifetime=-10)
    foreign = LocalIssuer(tmp_path / "elsewhere").issue("alice")
    reader = issuer.issue("alice", ("orders/read",))
    cases = {
        "Basic abc": "not 'Bearer <token>'",
        f"Bearer {expired}": "has expired (tokens last 60 minutes; make token gives a new one)",
        f"Bearer {foreign}": "not signed by this make run (issued for another DATA_DIR?)",
        "Bearer not-a-token": "not a token from make token",
    }
    for authorization, why in cases.items():
        verdict = issuer.authorize("GET", authorization)
        assert isinstance(verdict, Refused)
        assert why in verdict.reason
        assert authorization.split()[-1] not in verdict.reason
    refused = issuer.authorize("POST", f"Bearer {reader}")
    assert isinstance(refused, Refused)
    assert refused.reason == "the token of 'alice' lacks the scope orders/write"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--scopes", "orders/read orders/delete"], "Unknown scope orders/delete: the API knows orders/read"),
        (["--scopes", "admin"], "Unknown scope admin"),
        (["--ttl", "forever"], "TTL must be a number of seconds from 1 to 604800, got 'forever'."),
        (["--ttl", "0"], "TTL must be a number of seconds"),
    ],
)
def test_make_token_refuses_what_make_run_would_not_honour(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["--sub", "alice", "--data-dir", str(tmp_path), *arguments]) == 2
    assert message in capsys.readouterr().err


def test_make_token_ttl_sets_the_tokens_lifetime(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sub", "alice", "--data-dir", str(tmp_path), "--ttl", "86400"]) == 0
    token = capsys.readouterr().out.splitlines()[-1]

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 86400
