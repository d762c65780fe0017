"""Hypothesis strategies for whole HTTP requests a hostile caller can send, and the oracle they must pass.

One strategy serves both fuzz runs: through ``lambda_handler`` in process (``test_lambda_handler``) and
over HTTP against ``make run`` (``tests/e2e/test_fuzz_http.py``). A request is drawn as what a client
puts on the wire (method, target, header pairs with repeats, body bytes); placeholders ``{order}`` and
``{cursor}`` in the target are filled with a real order id and a real cursor, so mutated requests also
reach the routes' store calls, not only the checks before them.

JSON bodies are built as text, not with ``json.dumps``, so they can hold what a JSON library would never
write: the same key twice, number literals of any length and exponent (``1e1000000000000000000``),
escapes of lone surrogates, deep nesting, and a valid order with one character changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

ORDER_FIELDS = ("productName", "productQuantity", "productPrice", "status")
STATUSES = ("PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED")
# What the API documents for callers' mistakes (openapi.json); anything else, and any 5xx, is a defect.
DOCUMENTED = frozenset({200, 201, 204, 400, 401, 403, 404, 409, 413, 415, 422})


@dataclass(frozen=True)
class HostileRequest:
    """One request as a client sends it; ``target`` may hold ``{order}`` and ``{cursor}``."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    def filled(self, order_id: str, cursor: str) -> HostileRequest:
        target = self.target.replace("{order}", order_id).replace("{cursor}", cursor)
        return HostileRequest(self.method, target, self.headers, self.body)


# --- JSON as text ----------------------------------------------------------------------------------

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=120)
EXPONENTS = st.sampled_from(
    ["308", "309", "-308", "-324", "-400", "99999999", "1000000000000000000", "-1000000000000000000000"]
) | st.integers(-(10**22), 10**22).map(str)
SIGNS = st.sampled_from(["", "-"])
NUMBER_TEXTS = st.one_of(
    st.integers(-(2**80), 2**80).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.tuples(SIGNS, DIGITS).map("".join),
    st.tuples(SIGNS, DIGITS, DIGITS).map(lambda t: f"{t[0]}{t[1]}.{t[2]}"),
    st.tuples(SIGNS, DIGITS, st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), EXPONENTS).map(
        lambda t: f"{t[0]}{t[1][:3]}{t[2]}{t[3]}{t[4].lstrip('-') if t[3] else t[4]}"
    ),
    st.sampled_from(["-0", "0e0", "0E+1000000000000000000", "1e-1000000000000000000000", "2.0", "1.250E3"]),
)
# Every Unicode category, surrogates included (written as \\ud800 escapes, as JSON allows).
STRINGS = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=["Cs"]), max_size=40),
    st.text(max_size=260),
    st.sampled_from(["", " ", "\u200b", "\u202e", "\ufeff", "Coffee beans", "a" * 201, "\U0001f600" * 3]),
)


def _string_literal(text: str, ensure_ascii: bool) -> str:
    return json.dumps(text, ensure_ascii=ensure_ascii)


STRING_LITERALS = st.one_of(
    st.builds(_string_literal, STRINGS, st.booleans()),
    st.sampled_from(['"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"a\\/b"']),
)
SCALARS = st.one_of(NUMBER_TEXTS, STRING_LITERALS, st.sampled_from(["true", "false", "null"]))
KEYS = st.one_of(st.sampled_from(ORDER_FIELDS), STRING_LITERALS.map(lambda s: s[1:-1]))


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f'"{key}":{value}' for key, value in pairs) + "}"


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


JSON_TEXTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(_array),
        st.lists(st.tuples(KEYS, inner), max_size=5).map(_object),
    ),
    max_leaves=25,
)


@st.composite
def order_bodies(draw: st.DrawFn) -> str:
    """An order-shaped object: known fields with hostile values, extra fields, keys repeated."""
    pairs: list[tuple[str, str]] = []
    for field in ORDER_FIELDS:
        if draw(st.integers(0, 9)) == 0:
            continue  # left out
        if field == "productName":
            value = draw(st.one_of(STRING_LITERALS, JSON_TEXTS))
        elif field == "status":
            value = draw(st.one_of(st.sampled_from(STATUSES).map(json.dumps), STRING_LITERALS, SCALARS))
        else:
            value = draw(st.one_of(NUMBER_TEXTS, st.integers(1, 5000).map(str), JSON_TEXTS))
        pairs.append((field, value))
    pairs.extend(draw(st.lists(st.tuples(KEYS, JSON_TEXTS), max_size=3)))
    if pairs and draw(st.booleans()):
        pairs.append(draw(st.sampled_from(pairs)))  # the same key twice
    return _object(draw(st.permutations(pairs)))


def _nested(depth: int, opener: str) -> str:
    if opener == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` with one character deleted, replaced or inserted somewhere."""
    if not text:
        return text
    at = draw(st.integers(0, len(text) - 1))
    kind = draw(st.sampled_from(["delete", "replace", "insert"]))
    char = draw(st.characters(codec=None) | st.sampled_from(list('{}[]",:\\0e-+.')))
    if kind == "delete":
        return text[:at] + text[at + 1 :]
    if kind == "replace":
        return text[:at] + char + text[at + 1 :]
    return text[:at] + char + text[at:]


@st.composite
def plausible_orders(draw: st.DrawFn) -> str:
    """An order a careless but honest client sends: any name, small numbers, perhaps a status."""
    name = draw(st.text(min_size=1, max_size=80).map(lambda text: "x" + text) | STRINGS)
    pairs = [
        ("productName", _string_literal(name, draw(st.booleans()))),
        ("productQuantity", str(draw(st.integers(1, 1000) | st.integers(-2, 10**6)))),
        ("productPrice", draw(st.integers(0, 10**7).map(str) | NUMBER_TEXTS)),
    ]
    if draw(st.booleans()):
        pairs.append(("status", json.dumps(draw(st.sampled_from(STATUSES)))))
    return _object(pairs)


VALID_ORDER = '{"productName":"Coffee beans","productQuantity":2,"productPrice":1250}'
BODY_TEXTS = st.one_of(
    order_bodies(),
    JSON_TEXTS,
    mutated(VALID_ORDER),
    order_bodies().flatmap(mutated),
    st.builds(_nested, st.integers(1, 80), st.sampled_from("[{")),
    st.sampled_from([VALID_ORDER, '{"status":"PAID"}', '{"status":"CANCELLED"}', "{}", "[]", "\ufeff{}"]),
)


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


BODIES = st.one_of(
    st.none(),
    st.builds(_encode, BODY_TEXTS, st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1"])),
    st.binary(max_size=300),
)

# --- the request line and headers ------------------------------------------------------------------

PATH_TEXT = st.text(
    st.characters(codec="ascii", exclude_characters="?#", exclude_categories=["Cc"]), max_size=40
)
PATHS = st.one_of(
    st.sampled_from(["/orders", "/orders/{order}", "/orders/", "//orders", "/orders/{order}/x"]),
    st.just("/openapi.json"),
    st.sampled_from(["/orders/%s", "/orders/{order}%s", "/%s"]).flatmap(
        lambda shape: PATH_TEXT.map(lambda text: shape % text.replace("%", "%25"))
    ),
    st.uuids().map(lambda value: f"/orders/{value}"),
)
QUERY_NAMES = st.sampled_from(["limit", "cursor", "status", "owner", "other", "limit"])
QUERY_VALUES = st.one_of(
    st.sampled_from(["1", "20", "21", "0", "-1", "1e3", "{cursor}", "PAID", "paid", ""]),
    NUMBER_TEXTS,
    st.text(st.characters(codec="ascii", exclude_characters="&#=%", exclude_categories=["Cc"]), max_size=60),
)
QUERIES = st.lists(st.tuples(QUERY_NAMES, QUERY_VALUES), max_size=4).map(
    lambda pairs: ("?" + "&".join(f"{name}={value}" for name, value in pairs)) if pairs else ""
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=140)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "APPLICATION/JSON",
        "application/json; charset=utf-8",
        "application/json; charset=utf-16",
        "application/json;;",
        "text/plain",
        "a/b+json",
        "",
    ]
)
HEADERS = st.lists(
    st.one_of(
        CONTENT_TYPES.map(lambda value: ("Content-Type", value)),
        HEADER_TEXT.map(lambda value: ("Idempotency-Key", value)),
        st.sampled_from(["k1", "k2"]).map(lambda value: ("Idempotency-Key", value)),
        st.tuples(st.sampled_from(["X-Forwarded-For", "Accept", "X-Amzn-Trace-Id", "Cookie"]), HEADER_TEXT),
    ),
    max_size=4,
)
METHODS = st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "GET", "POST"])


ROUTES = st.sampled_from(
    [
        *[("POST", "/orders"), ("PATCH", "/orders/{order}")] * 2,
        ("GET", "/orders"),
        ("GET", "/orders/{order}"),
        ("DELETE", "/orders/{order}"),
    ]
)


@st.composite
def hostile_requests(draw: st.DrawFn) -> HostileRequest:
    """A request a hostile caller could send. Half aim at a real route with a JSON body that is
    nearly right (so they reach the store: odd names stored, odd statuses refused); the rest are
    anything."""
    if draw(st.booleans()):
        method, path = draw(ROUTES)
        body = draw(st.one_of(plausible_orders(), order_bodies())) if method in ("POST", "PATCH") else None
        headers = [("Content-Type", "application/json"), *draw(HEADERS)] if body else draw(HEADERS)
        encoded = body.encode("utf-8", "surrogatepass") if body is not None else None
        return HostileRequest(method, path + draw(QUERIES), tuple(headers), encoded)
    method = draw(METHODS)
    target = draw(PATHS) + draw(QUERIES)
    headers = draw(HEADERS)
    body = draw(BODIES)
    if body is not None and draw(st.integers(0, 4)) > 0:
        headers = [("Content-Type", "application/json"), *headers]
    return HostileRequest(method, target, tuple(headers), body)


def check_answer(status: int, body: bytes, method: str) -> Any:
    """The oracle: a documented status, never a 5xx; every refusal a JSON object with a message."""
    assert status < 500, (status, body[:500])
    assert status in DOCUMENTED, (status, body[:500])
    if status < 400 or method == "HEAD":
        return None
    answer = json.loads(body)
    assert isinstance(answer, dict), body[:500]
    assert isinstance(answer.get("message"), str), body[:500]
    assert answer["message"], body[:500]
    return answer
