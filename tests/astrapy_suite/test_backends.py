"""How the external backend's URL becomes what astrapy wants: an endpoint, a path and an environment."""

from __future__ import annotations

import pytest

from .conftest import split_data_api_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://0123-abcd-us-east1.apps.astra.datastax.com/api/json",
            ("https://0123-abcd-us-east1.apps.astra.datastax.com", "/api/json", "prod"),
        ),
        ("http://localhost:8181", ("http://localhost:8181", "", "hcd")),
        ("http://127.0.0.1:8082/api/json/", ("http://127.0.0.1:8082", "/api/json", "hcd")),
    ],
)
def test_a_data_api_url_splits_into_endpoint_path_and_environment(
    url: str, expected: tuple[str, str, str]
) -> None:
    assert split_data_api_url(url) == expected
