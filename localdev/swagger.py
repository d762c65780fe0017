"""Swagger UI at ``/docs`` in ``make run``: the API's own OpenAPI document, to read and to try.

The page and its assets are served by ``make run``'s front (never by the function, never from a CDN):
the assets come from the pinned ``swagger-ui-py`` package (Swagger UI 5, which reads OpenAPI 3.1), found
on disk without importing it. The page loads ``/openapi.json`` and, for ``make run``, replaces the
deployed security schemes (SigV4, Cognito) by the local bearer token of ``make token``; without one,
"Try it out" acts as the local caller ``local``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PAGE_PATHS = ("/docs", "/docs/")
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
PAGE = b"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Orders API (make run)</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    fetch("/openapi.json").then((answer) => answer.json()).then((spec) => {
      // make run signs callers in with its own tokens (make token SUB=<name>); no token: the caller local.
      spec.components = spec.components || {};
      spec.components.securitySchemes = {
        localBearer: {
          type: "http",
          scheme: "bearer",
          description: "A token from `make token SUB=<name>`; without one you are the caller `local`.",
        },
      };
      for (const route of Object.values(spec.paths)) {
        for (const operation of Object.values(route)) {
          if (operation && typeof operation === "object") operation.security = [{ localBearer: [] }, {}];
        }
      }
      window.ui = SwaggerUIBundle({ spec, dom_id: "#swagger-ui", persistAuthorization: true });
    });
  </script>
</body>
</html>
"""


def static_dir() -> Path | None:
    """Swagger UI's files in the installed package, or None when it is not installed."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def answer(path: str) -> tuple[int, str, bytes] | None:
    """``(status, content type, body)`` for a path under /docs; None for any other path."""
    if path in PAGE_PATHS:
        return 200, "text/html; charset=utf-8", PAGE
    if not path.startswith("/docs/"):
        return None
    name = path.removeprefix("/docs/")
    folder = static_dir()
    if name not in ASSETS or folder is None or not (folder / name).is_file():
        return 404, "application/json", b'{"message":"There is no such file under /docs."}'
    return 200, ASSETS[name], (folder / name).read_bytes()
