"""What a request body must pass before any route sees it.

API Gateway hands the function whatever the caller sent. Before Powertools parses anything, a body
must be at most 64 KiB, be declared ``application/json`` (media types compare case-insensitively; a
``charset`` other than UTF-8 is refused), be UTF-8 text, and be one JSON object within bounds that no
order comes near: at most 32 levels of nesting, numbers of at most 100 characters (Python's own limit
on integer digits would otherwise raise in the middle of parsing) whose size fits a 64-bit float
(0, or between 1e-308 and 1e308 in size: ``1e309``, ``1e-400`` or ``1e1000000000000000000`` are
400, as no order field can hold them and ``decimal`` cannot even represent the last), no
``NaN``/``Infinity`` (not JSON), no key twice. Every refusal is a 4xx with a message that says what
to change.

A body that passes is handed on normalised (re-serialised from what was parsed here, numbers written
as exact whole numbers being integers; ``content-type: application/json``), so Powertools' own parser
meets only bodies this module has already parsed once.

Hand-written rather than a JSON-schema or limits library: the standard ``json`` module exposes every
hook needed (``parse_int``, ``parse_constant``, ``object_pairs_hook``), and the checks are a few lines.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from orders_api.names import JSON

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 100


class Refusal(Exception):
    """A request refused before routing: its HTTP status and the message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _NumberTooLong(ValueError):
    pass


class _NumberOutOfRange(ValueError):
    pass


class _NotJson(ValueError):
    pass


class _RepeatedKey(ValueError):
    pass


def checked_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its body checked and normalised; Refusal when the body must not reach a route."""
    body = event.get("body")
    if not body:
        return event
    raw = _raw_body(event)
    if len(raw) > MAX_BODY_BYTES:
        raise Refusal(413, f"The request body is over {MAX_BODY_BYTES // 1024} KiB.")
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    _check_content_type(headers.get("content-type"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Refusal(400, "The request body is not valid JSON: it is not UTF-8 text.") from error
    value = parse_json(text)
    if not isinstance(value, dict):
        raise Refusal(422, "The request body must be one JSON object.")
    headers["content-type"] = JSON
    # Handed on as parsed here (whole numbers as integers), so the routes see exactly this value.
    return {**event, "headers": headers, "body": json.dumps(value), "isBase64Encoded": False}


def parse_json(text: str) -> Any:
    """``text`` parsed as strict JSON within this module's bounds; Refusal (400) otherwise."""
    try:
        value = json.loads(
            text,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_object,
        )
    except RecursionError as error:
        raise Refusal(400, f"The request body is nested more than {MAX_DEPTH} levels deep.") from error
    except _NumberTooLong as error:
        raise Refusal(
            400, f"A number in the request body is longer than {MAX_NUMBER_CHARS} characters."
        ) from error
    except _NumberOutOfRange as error:
        raise Refusal(
            400,
            "A number in the request body is out of range: its size must be 0 or between 1e-308 and 1e308.",
        ) from error
    except _RepeatedKey as error:
        raise Refusal(400, "The request body is not valid JSON: an object has the same key twice.") from error
    except json.JSONDecodeError as error:
        # json's own words name only what it expected, never the caller's text.
        where = f"line {error.lineno}, column {error.colno}"
        raise Refusal(400, f"The request body is not valid JSON: {error.msg} at {where}.") from error
    except ValueError as error:
        raise Refusal(400, "The request body is not valid JSON.") from error
    if _depth(value) > MAX_DEPTH:
        raise Refusal(400, f"The request body is nested more than {MAX_DEPTH} levels deep.")
    return value


def _raw_body(event: dict[str, Any]) -> bytes:
    body = str(event.get("body") or "")
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=False)
    except (binascii.Error, ValueError) as error:
        raise Refusal(400, "The request body is not valid base64.") from error


def _check_content_type(header: str | None) -> None:
    if header is None or not header.strip():
        raise Refusal(415, "Send the request body as application/json (the Content-Type header is missing).")
    media_type, *parameters = header.split(";")
    if media_type.strip().lower() != JSON:
        raise Refusal(415, "Send the request body as application/json.")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise Refusal(415, "Send the request body as application/json in UTF-8.")


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _NumberTooLong(text[:20])
    return int(text)


def _float(text: str) -> float | int:
    # JSON has one number type: 2.0 is the integer 2 (as JSON Schema says). Decided on the exact
    # decimal, not on a float, so 2.0000000000000001 or 1e-400 never round to a whole number.
    if len(text) > MAX_NUMBER_CHARS:
        raise _NumberTooLong(text[:20])
    try:
        # Decimal refuses exponents beyond about 10**18 (InvalidOperation, not a ValueError).
        exact = Decimal(text)
    except InvalidOperation as error:
        raise _NumberOutOfRange(text[:20]) from error
    approximate = float(text)
    if math.isinf(approximate) or (approximate == 0 and not exact.is_zero()):
        raise _NumberOutOfRange(text[:20])
    if abs(exact.adjusted()) <= MAX_NUMBER_CHARS and exact == exact.to_integral_value():
        return int(exact)
    return approximate


def _constant(name: str) -> Any:
    raise _NotJson(name)  # NaN, Infinity and -Infinity are Python's extensions, not JSON


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _RepeatedKey()
    return value


def _depth(value: Any) -> int:
    """How deeply ``value`` nests arrays and objects (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest
