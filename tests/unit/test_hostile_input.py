"""Hostile input: whatever a caller sends, the answer is a 4xx with a clear message, never a 5xx, never
a stack trace in the log, and nothing a caller controls reaches the store unchecked.

Explicit cases for every way found to break the API, then Hypothesis properties over bodies, content
types, headers, query strings and cursors. Every request goes through ``lambda_handler`` in process,
over an in-memory store that records what reached it.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_api.models import OrderStatus, StoredOrder
from orders_api.store import StoredPage, factory
from tests.api_events import Answer, invoke
from tests.fakes import InMemoryOrderStore

VALID = {"productName": "Coffee beans", "productQuantity": 2, "productPrice": 1250}
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:sts::123456789012:assumed-role/checkout/i-0bob"
# Hypothesis runs are reproducible in CI (a fixed seed per test) and never slow the suite much.
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class RecordingStore(InMemoryOrderStore):
    """The in-memory store, recording every position a list call received."""

    def __init__(self) -> None:
        super().__init__()
        self.listed_positions: list[str | None] = []

    def list(
        self, limit: int, cursor: str | None, status: OrderStatus | None, owner: str | None = None
    ) -> StoredPage:
        self.listed_positions.append(cursor)
        return super().list(limit, cursor, status, owner)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> RecordingStore:
    memory = RecordingStore()
    monkeypatch.setattr(factory, "_store", memory)
    return memory


def post(raw_body: str, content_type: str = "application/json", **headers: str) -> Answer:
    return invoke("POST", "/orders", raw_body=raw_body, headers={"content-type": content_type, **headers})


def assert_refused(answer: Answer, status: int, *words: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/json"
    for word in words:
        assert word in answer.message
    assert answer.body["requestId"]


# --- bodies that used to break the API -----------------------------------------------------------------


def test_a_number_of_5000_digits_is_400_not_500(store: RecordingStore) -> None:
    answer = post('{"productName": "Tea", "productQuantity": ' + "9" * 5000 + ', "productPrice": 1}')

    assert_refused(answer, 400, "number", "100 characters")
    assert store.orders == {}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("[" * 10_000 + "]" * 10_000, id="10000-arrays"),
        pytest.param('{"a":' * 5_000 + "1" + "}" * 5_000, id="5000-objects"),
        pytest.param("[" * 32_000, id="32000-unclosed"),
        pytest.param('{"productName": ' + "[" * 40 + "]" * 40 + "}", id="40-levels-inside-an-order"),
    ],
)
def test_deep_nesting_is_400_not_500(store: RecordingStore, raw: str) -> None:
    assert_refused(post(raw), 400)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([VALID], id="array-holding-a-valid-order"),
        pytest.param([], id="empty-array"),
        pytest.param("order", id="string"),
        pytest.param(7, id="number"),
        pytest.param(None, id="null"),
    ],
)
def test_a_body_that_is_not_one_json_object_is_422(store: RecordingStore, body: Any) -> None:
    assert_refused(post(json.dumps(body)), 422, "one JSON object")
    assert store.orders == {}


@pytest.mark.parametrize(
    ("raw", "word"),
    [
        pytest.param('{"productName": "Tea", "productQuantity": NaN, "productPrice": 1}', "JSON", id="NaN"),
        pytest.param(
            '{"productName": "Tea", "productQuantity": 1, "productPrice": Infinity}', "JSON", id="Inf"
        ),
        pytest.param(
            '{"productName": "Tea", "productName": "Coffee", "productQuantity": 1}', "twice", id="dup"
        ),
        pytest.param("\ufeff" + json.dumps(VALID), "JSON", id="byte-order-mark"),
    ],
)
def test_json_that_is_not_standard_json_is_400(store: RecordingStore, raw: str, word: str) -> None:
    assert_refused(post(raw), 400, word)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Tea\u202eaet", id="right-to-left-override"),
        pytest.param("Tea\u2066x\u2069", id="isolate"),
        pytest.param("Tea\x00", id="nul"),
        pytest.param("Tea\nCoffee", id="line-break"),
        pytest.param("Tea\x1b[31m", id="terminal-escape"),
        pytest.param("Tea\u200b", id="zero-width-space"),
        pytest.param("\ufeffTea", id="byte-order-mark"),
        pytest.param("Tea\u2028", id="line-separator"),
        pytest.param("   ", id="blank"),
    ],
)
def test_product_names_with_invisible_or_control_characters_are_422(store: RecordingStore, name: str) -> None:
    answer = post(json.dumps({**VALID, "productName": name}))

    assert_refused(answer, 422, "productName")
    assert store.orders == {}


def test_a_lone_surrogate_in_a_product_name_is_422(store: RecordingStore) -> None:
    # JSON may escape half of a UTF-16 pair; Python keeps it, and no UTF-8 store could take it.
    answer = post('{"productName": "Tea \\ud800", "productQuantity": 1, "productPrice": 1}')

    assert_refused(answer, 422, "productName")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("\u200d", id="lone-zero-width-joiner"),
        pytest.param("\ufe0f", id="lone-variation-selector"),
        pytest.param("\u0301", id="lone-combining-accent"),
        pytest.param("\u3164", id="hangul-filler"),
        pytest.param("\u2800", id="blank-braille"),
        pytest.param("Tea\uffff", id="noncharacter"),
        pytest.param("Tea\u0378", id="unassigned"),
    ],
)
def test_product_names_that_show_nothing_are_422(store: RecordingStore, name: str) -> None:
    assert_refused(post(json.dumps({**VALID, "productName": name})), 422, "productName")


@pytest.mark.parametrize(
    "raw_number",
    ["2.0000000000000001", "1249.9999999999999", "9007199254740990.6", "1e-300"],
)
def test_numbers_that_are_not_exactly_whole_are_422_never_rounded(
    store: RecordingStore, raw_number: str
) -> None:
    answer = post('{"productName": "Tea", "productQuantity": 1, "productPrice": ' + raw_number + "}")

    assert_refused(answer, 422, "productPrice")
    assert store.orders == {}


# Exponents beyond what decimal can represent used to raise decimal.InvalidOperation out of
# lambda_handler: a 500 that counted as the release's own crash. Any field, known or not, any method.
@pytest.mark.parametrize(
    "raw_number",
    [
        "1e1000000000000000000",
        "-1E+1000000000000000000",
        "1e-1000000000000000000000",
        "1e99999999",
        "-1e309",
        "1.7976931348623159e308",
        "1e-400",
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("POST", "/orders", "productQuantity"),
        ("POST", "/orders", "unknownField"),
        ("PATCH", f"/orders/{uuid.UUID(int=1)}", "status"),
        ("GET", "/orders", "anything"),
    ],
)
def test_numbers_beyond_a_doubles_range_are_400_in_any_field(
    store: RecordingStore, raw_number: str, method: str, path: str, field: str
) -> None:
    raw = f'{{"productName": "Tea", "productQuantity": 1, "productPrice": 450, "{field}": {raw_number}}}'

    answer = invoke(method, path, raw_body=raw, headers={"content-type": "application/json"})

    assert_refused(answer, 400, "out of range", "1e-308 and 1e308")
    assert store.orders == {}


@pytest.mark.parametrize(("raw_number", "value"), [("2.0", 2), ("5e2", 500), ("1.250E3", 1250), ("-0.0", 0)])
def test_numbers_written_as_exact_whole_numbers_are_integers(
    store: RecordingStore, raw_number: str, value: int
) -> None:
    answer = post('{"productName": "Tea", "productQuantity": 1, "productPrice": ' + raw_number + "}")

    assert answer.status == 201, answer.body
    assert answer.body["productPrice"] == value


def test_an_answer_about_many_unknown_fields_stays_small(store: RecordingStore) -> None:
    body = {**VALID, **{f"u{index}": 1 for index in range(5000)}}

    answer = post(json.dumps(body))

    assert_refused(answer, 422, "and 4990 more")
    assert len(answer.body["errors"]) == 10
    assert len(json.dumps(answer.body)) < 4096


def test_an_unknown_route_echoes_the_path_short_and_printable(store: RecordingStore) -> None:
    answer = invoke("GET", "/x\u202e" + "a" * 8000)

    assert answer.status == 404
    assert len(answer.message) < 200
    assert "\u202e" not in answer.message


@pytest.mark.parametrize(
    "name",
    ["Café crème", "緑茶", "قهوة", "👩\u200d💻 sticker", "कॉफ़ी", "Tea (green), 500 g"],
)
def test_product_names_in_any_script_are_accepted(store: RecordingStore, name: str) -> None:
    answer = post(json.dumps({**VALID, "productName": name}))

    assert answer.status == 201
    assert answer.body["productName"] == name


# --- content types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "APPLICATION/JSON",
        "Application/Json; Charset=UTF-8",
        'application/json;charset="utf-8"',
    ],
)
def test_json_media_types_compare_case_insensitively(store: RecordingStore, content_type: str) -> None:
    assert post(json.dumps(VALID), content_type).status == 201


@pytest.mark.parametrize(
    "content_type",
    [
        "application/merge-patch+json",
        "application/vnd.orders+json",
        "text/json",
        "application/json; charset=latin-1",
        "application/jsonx",
        "",
    ],
)
def test_other_media_types_are_415_before_any_parsing(store: RecordingStore, content_type: str) -> None:
    assert_refused(post(json.dumps(VALID), content_type), 415, "application/json")
    assert store.orders == {}


def test_a_body_without_a_content_type_is_415_as_documented(store: RecordingStore) -> None:
    answer = invoke("POST", "/orders", raw_body=json.dumps(VALID), headers={"content-type": ""})

    assert_refused(answer, 415, "Content-Type")


def test_the_openapi_document_says_what_the_api_does_about_content_types() -> None:
    from orders_api.handler import openapi_json

    spec = json.loads(openapi_json())
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert set(operation["requestBody"]["content"]) == {"application/json"}, (method, path)
                assert "415" in operation["responses"], (method, path)


# --- idempotency keys ----------------------------------------------------------------------------------


def test_another_caller_repeating_a_key_gets_its_own_order_never_the_first_callers(
    store: RecordingStore,
) -> None:
    # Given Alice created an order with a key
    alices = invoke("POST", "/orders", VALID, headers={"Idempotency-Key": "checkout-7f3a"}, caller_arn=ALICE)
    assert alices.status == 201

    # When Bob sends the same key and body
    bobs = invoke("POST", "/orders", VALID, headers={"Idempotency-Key": "checkout-7f3a"}, caller_arn=BOB)

    # Then Bob gets a new order of his own, not Alice's (and cannot have claimed her key ahead of her)
    assert bobs.status == 201
    assert bobs.body["orderId"] != alices.body["orderId"]
    owners = {str(order.orderId): order.owner for order in store.orders.values()}
    assert owners == {
        alices.body["orderId"]: f"iam:{ALICE}",
        bobs.body["orderId"]: "iam:arn:aws:iam::123456789012:role/checkout",
    }


def test_a_callers_own_key_from_a_new_session_of_its_role_replays(store: RecordingStore) -> None:
    first = invoke("POST", "/orders", VALID, headers={"Idempotency-Key": "k-1"}, caller_arn=BOB)
    again = invoke(
        "POST",
        "/orders",
        VALID,
        headers={"Idempotency-Key": "k-1"},
        caller_arn="arn:aws:sts::123456789012:assumed-role/checkout/a-later-session",
    )

    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body


@pytest.mark.parametrize("key", ["with space", "tab\tkey", "line\nbreak", "clé", "\u202ekey", "a,b"])
def test_idempotency_keys_are_visible_ascii(store: RecordingStore, key: str) -> None:
    answer = invoke("POST", "/orders", VALID, headers={"Idempotency-Key": key})

    assert_refused(answer, 422, "Idempotency-Key")


def test_a_request_without_the_identity_its_mode_needs_is_401(store: RecordingStore) -> None:
    answer = invoke("POST", "/orders", VALID, caller_arn="")

    assert_refused(answer, 401, "caller identity")
    assert store.orders == {}


# --- cursors ---------------------------------------------------------------------------------------------


def fill(store: RecordingStore, count: int) -> None:
    for index in range(count):
        assert invoke("POST", "/orders", {**VALID, "productQuantity": index + 1}).status == 201
    store.listed_positions.clear()


def next_cursor(**query: str) -> str:
    answer = invoke("GET", "/orders", query={"limit": "2", **query})
    assert answer.status == 200
    cursor: str = answer.body["nextCursor"]
    return cursor


def test_a_forged_page_state_is_400_before_any_store_call(store: RecordingStore) -> None:
    forged = base64.urlsafe_b64encode(b'{"v":1,"status":null,"pageState":"AAAA","seen":[]}').decode()

    answer = invoke("GET", "/orders", query={"cursor": forged})

    assert_refused(answer, 400, "cursor")
    assert store.listed_positions == []


def test_a_cursor_whose_status_filter_was_edited_is_400(store: RecordingStore) -> None:
    fill(store, 5)
    position, tag = next_cursor(status="PENDING").rsplit(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(position + "=" * (-len(position) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**payload, "status": None}).encode()).rstrip(b"=").decode()

    answer = invoke("GET", "/orders", query={"cursor": f"{edited}.{tag}"})

    assert_refused(answer, 400, "cursor")
    assert store.listed_positions == [None]  # only the honest first page reached the store


def test_a_cursor_that_decodes_to_deeply_nested_json_is_400(store: RecordingStore) -> None:
    nested = base64.urlsafe_b64encode(("[" * 3000).encode()).decode()[:4000]

    assert_refused(invoke("GET", "/orders", query={"cursor": nested}), 400, "cursor")
    assert_refused(invoke("GET", "/orders", query={"cursor": nested + ".AAAAAAAAAAAAAAAAAAAAAA"}), 400)


def test_a_cursor_issued_to_another_caller_is_400(store: RecordingStore) -> None:
    fill(store, 5)
    alices = invoke("GET", "/orders", query={"limit": "2"}, caller_arn=ALICE).body["nextCursor"]

    answer = invoke("GET", "/orders", query={"cursor": alices, "limit": "2"}, caller_arn=BOB)

    assert_refused(answer, 400, "cursor")


def test_a_cursor_for_another_status_filter_is_400_naming_the_filter(store: RecordingStore) -> None:
    fill(store, 5)
    cursor = next_cursor(status="PENDING")

    answer = invoke("GET", "/orders", query={"cursor": cursor, "status": "PAID"})

    assert_refused(answer, 400, "status filter")


def test_honest_cursors_still_visit_every_order_once(store: RecordingStore) -> None:
    fill(store, 7)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = invoke("GET", "/orders", query=query)
        seen += [item["orderId"] for item in answer.body["items"]]
        cursor = answer.body["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(str(order_id) for order_id in store.orders)


# --- what errors reveal, and what is logged ------------------------------------------------------------


def test_domain_errors_log_no_stack_trace(store: RecordingStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    order_id = invoke("POST", "/orders", VALID).body["orderId"]

    assert invoke("GET", f"/orders/{uuid.uuid4()}").status == 404
    assert invoke("PATCH", f"/orders/{order_id}", {"status": "DELIVERED"}).status == 409
    assert invoke("GET", "/orders", query={"cursor": "x.y"}).status == 400

    assert [record.getMessage() for record in caplog.records if record.exc_info] == []
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


# --- properties ------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=4)
    ),
    max_leaves=20,
)
ORDER_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "productName": st.text(max_size=210) | JSON_VALUES,
        "productQuantity": st.integers(min_value=-(10**30), max_value=10**30) | JSON_VALUES,
        "productPrice": st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | JSON_VALUES,
        "status": st.sampled_from([s.value for s in OrderStatus]) | st.text(max_size=10),
    },
)
EXTRA_FIELDS = st.dictionaries(st.text(max_size=20), JSON_VALUES, max_size=2)
ORDER_WITH_EXTRAS = st.tuples(ORDER_LIKE, EXTRA_FIELDS).map(lambda pair: {**pair[0], **pair[1]})
CONTENT_TYPES = st.sampled_from(
    ["application/json", "APPLICATION/JSON", "application/json; charset=utf-16", "text/plain", "", "a/b+json"]
)


def assert_a_clean_answer(answer: Answer) -> None:
    assert answer.status < 500, answer.body
    if answer.status >= 400:
        assert isinstance(answer.message, str)
        assert answer.message


@FUZZ
@given(
    body=ORDER_WITH_EXTRAS | JSON_VALUES,
    content_type=CONTENT_TYPES,
    method=st.sampled_from(["POST", "PATCH"]),
)
def test_no_json_body_is_answered_with_a_5xx(
    store: RecordingStore, body: Any, content_type: str, method: str
) -> None:
    path = "/orders" if method == "POST" else f"/orders/{uuid.uuid4()}"
    raw = json.dumps(body, allow_nan=True)

    answer = invoke(method, path, raw_body=raw, headers={"content-type": content_type})

    assert_a_clean_answer(answer)
    if answer.status == 201:
        stored = store.orders[uuid.UUID(answer.body["orderId"])]
        assert isinstance(stored, StoredOrder)
        assert stored.productName.strip()


@FUZZ
@given(raw=st.binary(max_size=300), encoded=st.booleans())
def test_no_byte_string_as_a_body_is_answered_with_a_5xx(
    store: RecordingStore, raw: bytes, encoded: bool
) -> None:
    body = base64.b64encode(raw).decode() if encoded else raw.decode("latin-1")

    answer = invoke("POST", "/orders", raw_body=body, base64_body=encoded)

    assert_a_clean_answer(answer)


@FUZZ
@given(
    cursor=st.text(min_size=1, max_size=300)
    | st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())
)
def test_no_cursor_a_caller_makes_up_reaches_the_store(store: RecordingStore, cursor: str) -> None:
    answer = invoke("GET", "/orders", query={"cursor": cursor})

    assert answer.status in (400, 422), answer.body
    assert store.listed_positions == []


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["limit", "status", "cursor", "other"]), st.text(max_size=40), max_size=4
    ),
    key=st.none() | st.text(max_size=140),
)
def test_no_query_string_or_header_is_answered_with_a_5xx(
    store: RecordingStore, query: dict[str, str], key: str | None
) -> None:
    headers = {"Idempotency-Key": key} if key is not None else {}

    assert_a_clean_answer(invoke("GET", "/orders", query=query))
    assert_a_clean_answer(invoke("POST", "/orders", VALID, headers=headers))


@FUZZ
@given(order_id=st.text(max_size=60))
def test_no_order_id_is_answered_with_a_5xx(store: RecordingStore, order_id: str) -> None:
    assert_a_clean_answer(invoke("GET", f"/orders/{order_id}"))
    assert_a_clean_answer(invoke("DELETE", f"/orders/{order_id}"))
