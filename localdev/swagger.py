"""Swagger UI at ``/docs`` in ``make run``: the API's own OpenAPI document, to read and to try.

The page and its assets are served by ``make run``'s front (never by the function, never from a CDN):
the assets come from the pinned ``swagger-ui-py`` package (Swagger UI 5, which reads OpenAPI 3.1), found
on disk without importing it. The page itself is the one a deployed stage serves with
``-c swaggerUi=true`` (cdk_app/docs_page); here it loads ``/openapi.json`` and replaces the deployed
security schemes (SigV4, Cognito) by the local bearer token of ``make token``; without one, "Try it
out" acts as the local caller ``local``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cdk_app.docs_page import docs_page

PAGE_PATHS = docs_page.PAGE_PATHS
DOCUMENT_URL = "/openapi.json"


def static_dir() -> Path | None:
    """Swagger UI's files in the installed package, or None when it is not installed."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def answer(path: str) -> tuple[int, str, bytes] | None:
    """``(status, content type, body)`` for a path under /docs; None for any other path."""
    if path == f"/docs/{docs_page.DOCUMENT_NAME}":
        return None  # make run serves the function's own document at /openapi.json only
    return docs_page.answer(path, static_dir(), auth="local", document_url=DOCUMENT_URL)
