"""Swagger UI for the orders API: the page, its assets, and the Lambda handler that serves them.

Two servers use this module. ``make run`` (``localdev/swagger.py``) serves the page at ``/docs`` with
the assets of the pinned ``swagger-ui-py`` package. A deployed stage serves it only with the explicit
setting ``-c swaggerUi=true``: a function of its own (this file as its handler, the same assets and
the committed ``openapi.json`` copied beside it, cdk_app/docs_page_function.py) answers ``GET /docs``
and ``GET /docs/{file}``, so the orders function's code and cold start are untouched. The assets never
come from a CDN.

How "Try it out" authenticates depends on who serves the page (``AUTH_MODES``): ``make run``'s tokens,
a bearer access token with ``apiAuth=jwt``, nothing with ``apiAuth=none``; with ``apiAuth=iam`` a
browser cannot sign requests with SigV4, so the page is for reading and "Try it out" is off.

Standard library only: the deployed function has no dependencies.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Final

PAGE_PATHS: Final = ("/docs", "/docs/")
DOCUMENT_NAME: Final = "openapi.json"
ASSETS: Final = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# The deployed function's folder of assets and document, and its authentication mode.
STATIC_FOLDER: Final = "static"
AUTH_ENVIRONMENT: Final = "DOCS_API_AUTH"

# What replaces the document's security schemes in the page, per mode (None: no scheme, no sign-in).
_LOCAL_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token from `make token SUB=<name>`; without one you are the caller `local`.",
}
_JWT_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An access token from the stack's Cognito user pool (its TokenUrl output) or the "
    "configured issuer, with the orders/read or orders/write scope the route needs.",
}
AUTH_MODES: Final[dict[str, dict[str, Any] | None]] = {
    "local": _LOCAL_BEARER,
    "jwt": _JWT_BEARER,
    "none": None,
    "iam": None,
}
_TITLES: Final = {
    "local": "Orders API (make run)",
    "jwt": "Orders API",
    "none": "Orders API",
    "iam": "Orders API (read only: requests need SigV4, which a browser cannot sign)",
}

_PAGE: Final = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>__TITLE__</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    const scheme = __SCHEME__;
    const tryItOut = __TRY_IT_OUT__;
    fetch("__DOCUMENT__").then((answer) => answer.json()).then((spec) => {
      spec.components = spec.components || {};
      spec.components.securitySchemes = scheme ? { bearer: scheme } : {};
      for (const route of Object.values(spec.paths)) {
        for (const operation of Object.values(route)) {
          if (operation && typeof operation === "object") {
            operation.security = scheme ? [{ bearer: [] }, {}] : [{}];
          }
        }
      }
      window.ui = SwaggerUIBundle({
        spec,
        dom_id: "#swagger-ui",
        persistAuthorization: true,
        supportedSubmitMethods: tryItOut ? ["get", "post", "patch", "delete"] : [],
      });
    });
  </script>
</body>
</html>
"""


def page(auth: str, document_url: str) -> bytes:
    """The HTML page for an authentication mode (``AUTH_MODES``), loading the document at ``document_url``."""
    if auth not in AUTH_MODES:
        raise ValueError(f"unknown authentication mode {auth!r}; expected one of {sorted(AUTH_MODES)}")
    return (
        _PAGE.replace("__TITLE__", _TITLES[auth])
        .replace("__SCHEME__", json.dumps(AUTH_MODES[auth]))
        .replace("__TRY_IT_OUT__", json.dumps(auth != "iam"))
        .replace("__DOCUMENT__", document_url)
        .encode()
    )


def answer(path: str, folder: Path | None, *, auth: str, document_url: str) -> tuple[int, str, bytes] | None:
    """``(status, content type, body)`` for a path under /docs, with the assets (and, deployed, the
    document) read from ``folder``; None for any other path."""
    if path in PAGE_PATHS:
        return 200, "text/html; charset=utf-8", page(auth, document_url)
    if not path.startswith("/docs/"):
        return None
    name = path.removeprefix("/docs/")
    types = {**ASSETS, DOCUMENT_NAME: "application/json"}
    if name not in types or folder is None or not (folder / name).is_file():
        return 404, "application/json", b'{"message":"There is no such file under /docs."}'
    return 200, types[name], (folder / name).read_bytes()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The deployed page's function: an API Gateway HTTP API event (payload 2.0) in, its answer out."""
    folder = Path(__file__).resolve().parent / STATIC_FOLDER
    path = str(event.get("rawPath") or "/")
    auth = os.environ.get(AUTH_ENVIRONMENT, "iam")
    status, content_type, body = answer(path, folder, auth=auth, document_url=f"/docs/{DOCUMENT_NAME}") or (
        404,
        "application/json",
        b'{"message":"There is no such file under /docs."}',
    )
    text = content_type.startswith(("text/", "application/javascript", "application/json"))
    return {
        "statusCode": status,
        "headers": {
            "content-type": content_type,
            "cache-control": "no-cache" if path in PAGE_PATHS else "max-age=3600",
            "x-content-type-options": "nosniff",
        },
        "body": body.decode() if text else base64.b64encode(body).decode(),
        "isBase64Encoded": not text,
    }
