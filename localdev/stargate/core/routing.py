"""Requests, responses and a small path router, independent of the HTTP server that feeds them.

Each dialect lists its ``Route`` objects; the server puts the routes of the roles it serves in one
``Router``, which answers 404 for an unknown path and 405 for a known path with another method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from localdev.stargate.core.values import JsonValue, dump_json


@dataclass(frozen=True)
class Request:
    """An HTTP request as the API handlers see it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes = b""
    host: str = ""

    @property
    def segments(self) -> tuple[str, ...]:
        """The percent-decoded path segments; a trailing slash is ignored."""
        return (
            tuple(unquote(part) for part in self.path.strip("/").split("/")) if self.path.strip("/") else ()
        )

    def header(self, name: str) -> str | None:
        """A header value by case-insensitive name."""
        return self.headers.get(name.lower())

    def flag(self, name: str) -> bool:
        """A boolean query parameter such as ``raw=true``."""
        return self.query.get(name, "").lower() == "true"


def parse_query(query_string: str) -> dict[str, str]:
    """Query parameters, first value wins, blank values kept."""
    return {key: values[0] for key, values in parse_qs(query_string, keep_blank_values=True).items()}


@dataclass
class Response:
    """An HTTP response; ``body`` is sent as is."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: JsonValue, headers: Mapping[str, str] | None = None) -> Response:
    """A response with a JSON body."""
    body = dump_json(payload).encode("utf-8")
    return Response(status, body, "application/json", dict(headers or {}))


def text_response(status: int, text: str) -> Response:
    """A response with a plain-text body."""
    return Response(status, text.encode("utf-8"), "text/plain; charset=utf-8")


def empty_response(status: int) -> Response:
    """A response without a body (204, or v1's bodiless 404 for a missing document)."""
    return Response(status)


class ApiError(Exception):
    """Raised by handlers to answer with ``response`` instead of going on."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def malformed_json() -> ApiError:
    """What Stargate v1's web framework answers, on every port, when a body is not JSON."""
    return ApiError(json_response(400, {"code": 400, "message": "Unable to process JSON"}))


Handler = Callable[[Request, Mapping[str, str]], Response]


@dataclass(frozen=True)
class Route:
    """A path pattern such as ``/v2/namespaces/{ns}/collections/{coll}/{doc_id}/{path*}``.

    ``{name}`` matches one segment; a final ``{name*}`` matches one or more segments (joined with
    ``/``).
    """

    pattern: str
    handlers: Mapping[str, Handler]

    def match(self, segments: tuple[str, ...]) -> dict[str, str] | None:
        """Path parameters if ``segments`` fit the pattern, else None."""
        parts = tuple(self.pattern.strip("/").split("/"))
        params: dict[str, str] = {}
        for position, part in enumerate(parts):
            if part.startswith("{") and part.endswith("*}"):
                rest = segments[position:]
                if not rest:
                    return None
                params[part[1:-2]] = "/".join(rest)
                return params
            if position >= len(segments):
                return None
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = segments[position]
            elif part != segments[position]:
                return None
        return params if len(parts) == len(segments) else None


class Router:
    """Finds the handler of a request among routes tried in order."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        """A router over ``routes``; earlier routes win."""
        self._routes = list(routes)

    def add(self, routes: Iterable[Route]) -> None:
        """Append routes (tried after the existing ones)."""
        self._routes.extend(routes)

    def dispatch(self, request: Request) -> Response:
        """Run the matching handler; 404 when no pattern matches, 405 when no method does."""
        segments = request.segments
        allowed: set[str] = set()
        for route in self._routes:
            params = route.match(segments)
            if params is None:
                continue
            handler = route.handlers.get(request.method)
            if handler is None:
                allowed.update(route.handlers)
                continue
            try:
                return handler(request, params)
            except ApiError as error:
                return error.response
        if allowed:
            return json_response(
                405,
                {"description": "HTTP 405 Method Not Allowed", "code": 405},
                {"Allow": ", ".join(sorted(allowed))},
            )
        return json_response(404, {"description": "HTTP 404 Not Found", "code": 404})
