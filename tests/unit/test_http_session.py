"""The store's HTTP session reads the environment once, when it is made, not on every request."""

from __future__ import annotations

import pytest

from orders_api.store.http import new_session


def test_without_proxy_variables_the_environment_is_not_read_per_request() -> None:
    session = new_session(env={"PATH": "/usr/bin", "AWS_REGION": "eu-west-1"})

    assert session.trust_env is False
    assert session.verify is True


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "http_proxy"])
def test_a_proxy_variable_keeps_requests_reading_them_so_no_proxy_applies(name: str) -> None:
    session = new_session(env={name: "http://proxy.internal:3128", "NO_PROXY": "localhost"})

    assert session.trust_env is True


@pytest.mark.parametrize("name", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_private_ca_bundle_from_the_environment_is_kept(name: str) -> None:
    session = new_session(env={name: "/etc/ssl/private-ca.pem"})

    assert session.trust_env is False
    assert session.verify == "/etc/ssl/private-ca.pem"


def test_no_proxy_alone_names_no_proxy_so_the_environment_is_still_read_once() -> None:
    assert new_session(env={"NO_PROXY": "localhost", "no_proxy": "localhost"}).trust_env is False
