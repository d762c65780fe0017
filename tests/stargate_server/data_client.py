"""A thin Data API client for the tests: one POST per command, token header and timeouts in one place."""

from __future__ import annotations

from typing import Any

import requests

from .docs_client import TIMEOUT

DATA_API_PATH = "/api/json/v1"


class DataApiClient:
    """Sends commands to ``/api/json/v1[/{keyspace}[/{collection}]]`` the way a Data API client would."""

    def __init__(self, server_url: str, session: requests.Session, token: str | None) -> None:
        self.base_url = server_url + DATA_API_PATH
        self.session = session
        self.token = token

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        """POST ``body`` as JSON (unless ``data=`` is given) to a level below ``/api/json/v1``."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token is not None:
            headers.setdefault("Token", self.token)
        if "data" not in kwargs:
            kwargs["json"] = body
        return self.session.post(self.base_url + path, headers=headers, timeout=TIMEOUT, **kwargs)

    def run(self, path: str, command: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one command, expecting HTTP 200; the response body."""
        response = self.post(path, {command: payload if payload is not None else {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def find_all(self, path: str, payload: dict[str, Any] | None = None) -> tuple[list[Any], int]:
        """Follow ``nextPageState`` to the end; the documents in the order seen, and how many pages."""
        documents: list[Any] = []
        pages = 0
        page_state: str | None = None
        while True:
            command = dict(payload or {})
            options = dict(command.get("options", {}))
            if page_state is not None:
                options["pageState"] = page_state
            command["options"] = options
            body = self.run(path, "find", command)
            assert "errors" not in body, body
            pages += 1
            documents.extend(body["data"]["documents"])
            page_state = body["data"]["nextPageState"]
            if page_state is None:
                return documents, pages


def error_codes(body: dict[str, Any]) -> list[str]:
    """The ``errorCode`` of every error in a response body."""
    return [error["errorCode"] for error in body.get("errors", [])]
