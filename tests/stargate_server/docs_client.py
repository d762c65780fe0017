"""A thin HTTP client for the tests: base URL, token header and timeouts in one place."""

from __future__ import annotations

import json
from typing import Any

import requests

TIMEOUT = (2.0, 10.0)


class DocsClient:
    """Calls the server the way the project's store client would, returning raw responses."""

    def __init__(self, base_url: str, session: requests.Session, token: str | None) -> None:
        self.base_url = base_url
        self.session = session
        self.token = token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token is not None:
            headers.setdefault("X-Cassandra-Token", self.token)
        return self.session.request(method, self.base_url + path, headers=headers, timeout=TIMEOUT, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def search(self, collection_path: str, **params: Any) -> requests.Response:
        """GET a collection; dict/list params (where, fields) are sent as JSON."""
        encoded = {
            name.replace("_", "-"): json.dumps(value) if isinstance(value, dict | list) else value
            for name, value in params.items()
        }
        return self.get(collection_path, params=encoded)

    def search_all(self, collection_path: str, **params: Any) -> tuple[list[str], int]:
        """Follow pageState to the end; the ids in the order seen, and how many pages it took."""
        ids: list[str] = []
        pages = 0
        page_state: str | None = None
        while True:
            extra = {"page_state": page_state} if page_state else {}
            response = self.search(collection_path, **params, **extra)
            assert response.status_code == 200, response.text
            body = response.json()
            pages += 1
            ids.extend(body["data"])
            page_state = body.get("pageState")
            if page_state is None:
                return ids, pages
