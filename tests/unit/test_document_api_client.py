"""StargateDocuments against recorded Stargate answers: what each answer becomes for the caller.

Stargate is played by ``responses``. The session is the production one from ``new_session()`` and the
client retries under the project's one retry policy, so each repeated request shows up as one more
recorded call (the back-off between them is skipped).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from orders_api.errors import (
    InvalidCursor,
    StoreCredentialsRejected,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
)
from orders_api.store.document_api_client import SearchPage, StargateDocuments
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken, Login, PasswordLogin, TokenSource
from tests.fakes import refused_connection

BASE_URL = "http://stargate.test:8082"
AUTH_URL = "http://stargate.test:8081"
NAMESPACE = "shop"
COLLECTION = "orders"
COLLECTION_URL = f"{BASE_URL}/v2/namespaces/{NAMESPACE}/collections/{COLLECTION}"
DOCUMENT_ID = "6f1b1c1e-8a36-4f0e-9a43-2b1f6a0f7c11"
DOCUMENT_URL = f"{COLLECTION_URL}/{DOCUMENT_ID}"
TOKEN = "fixed-token-0f6c2d84"
PASSWORD = "pa55-word-91c3"
DOCUMENT = {"productName": "Tea", "productQuantity": 2, "nested": {"a": [1, "x", None]}}


def stargate_error(description: str, code: int) -> dict[str, Any]:
    """The Document API's error body."""
    return {"description": description, "code": code}


def query_of(call: Any) -> dict[str, str]:
    """The query parameters a recorded request carried, decoded as the server would read them."""
    parsed = parse_qs(urlsplit(call.request.url).query, keep_blank_values=True)
    return {name: values[-1] for name, values in parsed.items()}


def client(tokens: TokenSource | None = None) -> StargateDocuments:
    return StargateDocuments(
        BASE_URL + "/", NAMESPACE, COLLECTION, tokens or FixedToken(TOKEN), new_session(), (1.0, 2.0)
    )


def assert_no_secret(error: BaseException, *secrets: str) -> None:
    texts = [str(error), repr(error)]
    for secret in secrets:
        assert all(secret not in text for text in texts), f"{secret!r} leaked into {texts!r}"


@pytest.fixture
def stargate() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def stargate_in_order() -> Iterator[responses.RequestsMock]:
    """A Stargate whose answers must be asked for exactly in the order they were registered."""
    with responses.RequestsMock(registry=OrderedRegistry) as mock:
        yield mock


NO_NAMESPACE = stargate_error(f"Namespace {NAMESPACE} does not exist.", 404)
NO_COLLECTION = stargate_error(f"Collection {COLLECTION} does not exist.", 404)


# --- get ---------------------------------------------------------------------------------------------


def test_get_returns_the_raw_document_data(stargate: responses.RequestsMock) -> None:
    # Given Stargate holds the document
    stargate.get(DOCUMENT_URL, json=DOCUMENT, status=200)

    # When it is read
    found = client().get(DOCUMENT_ID)

    # Then the caller gets the data itself
    assert found == DOCUMENT


def test_get_sends_the_token_and_asks_for_raw_data(stargate: responses.RequestsMock) -> None:
    # Given Stargate answers only a call carrying the token
    stargate.get(
        DOCUMENT_URL,
        json=DOCUMENT,
        match=[matchers.header_matcher({"X-Cassandra-Token": TOKEN})],
    )

    # When the document is read
    client().get(DOCUMENT_ID)

    # Then the call asked for the bare document (raw=true)
    assert query_of(stargate.calls[0]) == {"raw": "true"}


def test_get_url_quotes_the_document_id(stargate: responses.RequestsMock) -> None:
    # Given an id with characters that mean something in a URL
    stargate.get(re.compile(re.escape(COLLECTION_URL) + r"/.*"), json=DOCUMENT)

    # When it is read
    client().get("a/b c?d#e")

    # Then the id stays one path segment, nothing of it leaks into the query or fragment
    request_url = urlsplit(stargate.calls[0].request.url)
    assert request_url.path == f"/v2/namespaces/{NAMESPACE}/collections/{COLLECTION}/a%2Fb%20c%3Fd%23e"
    assert parse_qs(request_url.query) == {"raw": ["true"]}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(404, "", id="v1-404-empty-body"),
        pytest.param(204, "", id="old-v1-204"),
        pytest.param(
            404,
            json.dumps(stargate_error(f"A document with the id {DOCUMENT_ID} does not exist.", 404)),
            id="v2-404-document",
        ),
        pytest.param(
            404,
            json.dumps(stargate_error(f"Collection {COLLECTION} does not exist.", 404)),
            id="404-missing-collection",
        ),
    ],
)
def test_get_of_a_missing_document_is_none(stargate: responses.RequestsMock, status: int, body: str) -> None:
    # Given Stargate says, in one of its dialects, that there is no such document
    stargate.get(DOCUMENT_URL, body=body, status=status, content_type="application/json")

    # When it is read
    found = client().get(DOCUMENT_ID)

    # Then the caller gets None, not an error
    assert found is None


def test_get_in_a_missing_namespace_is_an_error_not_none(stargate: responses.RequestsMock) -> None:
    # Given the namespace was never created
    stargate.get(DOCUMENT_URL, json=NO_NAMESPACE, status=404)

    # When a document is read
    with pytest.raises(StoreError) as raised:
        client().get(DOCUMENT_ID)

    # Then it is a store failure (502) that names the namespace, never "not found"
    assert type(raised.value) is StoreError
    assert raised.value.status_code == 502
    assert NAMESPACE in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("<html>gateway</html>", id="html"),
        pytest.param("", id="empty"),
        pytest.param("[1, 2]", id="json-array"),
        pytest.param('"text"', id="json-string"),
    ],
)
def test_get_of_a_200_that_is_not_a_json_object_is_a_store_error(
    stargate: responses.RequestsMock, body: str
) -> None:
    # Given Stargate answers 200 with something that is not a document
    stargate.get(DOCUMENT_URL, body=body, status=200)

    # When the document is read
    # Then the caller gets a store failure
    with pytest.raises(StoreError) as raised:
        client().get(DOCUMENT_ID)
    assert raised.value.status_code == 502


def test_get_is_retried_on_503_and_recovers(stargate: responses.RequestsMock) -> None:
    # Given Stargate is briefly unavailable, then answers
    stargate.get(DOCUMENT_URL, status=503)
    stargate.get(DOCUMENT_URL, json=DOCUMENT)

    # When the document is read
    found = client().get(DOCUMENT_ID)

    # Then the caller never sees the hiccup
    assert found == DOCUMENT
    assert len(stargate.calls) == 2


# --- put ---------------------------------------------------------------------------------------------


def test_put_sends_the_document_as_json(stargate: responses.RequestsMock) -> None:
    # Given Stargate accepts the write
    stargate.put(
        DOCUMENT_URL,
        json={"documentId": DOCUMENT_ID},
        status=200,
        match=[
            matchers.header_matcher({"X-Cassandra-Token": TOKEN}),
            matchers.json_params_matcher(DOCUMENT),
        ],
    )

    # When the document is written
    result = client().put(DOCUMENT_ID, DOCUMENT)

    # Then it succeeds, in one call
    assert result is None
    assert len(stargate.calls) == 1


def test_put_into_a_missing_namespace_is_a_store_error(stargate: responses.RequestsMock) -> None:
    # Given the namespace was never created
    stargate.put(
        DOCUMENT_URL,
        json=stargate_error(f"Unknown namespace {NAMESPACE}, you must create it first.", 404),
        status=404,
    )

    # When a document is written
    with pytest.raises(StoreError) as raised:
        client().put(DOCUMENT_ID, DOCUMENT)

    # Then the failure names the namespace
    assert type(raised.value) is StoreError
    assert NAMESPACE in str(raised.value)


def test_put_answered_500_is_a_store_error_without_retry(stargate: responses.RequestsMock) -> None:
    # Given Stargate fails internally
    stargate.put(DOCUMENT_URL, json=stargate_error("boom", 500), status=500)

    # When a document is written
    with pytest.raises(StoreError) as raised:
        client().put(DOCUMENT_ID, DOCUMENT)

    # Then the caller sees a 502 store error, and the write was sent once
    assert type(raised.value) is StoreError
    assert raised.value.status_code == 502
    assert "500" in str(raised.value)
    assert len(stargate.calls) == 1


@pytest.mark.parametrize(
    ("status", "error_type", "http_status"),
    [
        pytest.param(502, StoreUnavailable, 503, id="502"),
        pytest.param(503, StoreUnavailable, 503, id="503"),
        pytest.param(504, StoreTimeout, 504, id="504"),
    ],
)
def test_put_is_sent_again_only_when_the_store_cannot_have_applied_it(
    stargate: responses.RequestsMock, status: int, error_type: type[StoreError], http_status: int
) -> None:
    # Given Stargate keeps answering a gateway error
    stargate.put(DOCUMENT_URL, body="", status=status)

    # When a document is written
    with pytest.raises(error_type) as raised:
        client().put(DOCUMENT_ID, DOCUMENT)

    # Then a 503 (refused before doing anything) was tried three times; after a 502 or 504 the write
    # may have been applied, so it was not sent again; the caller gets the matching error
    assert len(stargate.calls) == (3 if status == 503 else 1)
    assert raised.value.status_code == http_status


def test_put_answered_429_is_unavailable(stargate: responses.RequestsMock) -> None:
    # Given Stargate is rate limiting
    stargate.put(DOCUMENT_URL, status=429)

    # When a document is written
    # Then the caller is told to come back later
    with pytest.raises(StoreUnavailable):
        client().put(DOCUMENT_ID, DOCUMENT)


@pytest.mark.parametrize(
    ("failure", "error_type", "http_status"),
    [
        pytest.param(requests.ConnectTimeout("connect timed out"), StoreTimeout, 504, id="connect-timeout"),
        pytest.param(requests.ReadTimeout("read timed out"), StoreTimeout, 504, id="read-timeout"),
        pytest.param(refused_connection(DOCUMENT_URL), StoreUnavailable, 503, id="connection-error"),
    ],
)
def test_put_network_failures_become_domain_errors(
    stargate: responses.RequestsMock,
    failure: Exception,
    error_type: type[StoreError],
    http_status: int,
) -> None:
    # Given the network fails the call
    stargate.put(DOCUMENT_URL, body=failure)

    # When a document is written
    with pytest.raises(error_type) as raised:
        client().put(DOCUMENT_ID, DOCUMENT)

    # Then the caller gets the matching domain error, never a requests exception
    assert raised.value.status_code == http_status
    assert_no_secret(raised.value, TOKEN)


# --- delete ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(204, "", id="204"),
        pytest.param(404, json.dumps(NO_COLLECTION), id="no-collection"),
    ],
)
def test_delete_succeeds_whether_or_not_there_was_something(
    stargate: responses.RequestsMock, status: int, body: str
) -> None:
    # Given Stargate answers the delete
    stargate.delete(
        DOCUMENT_URL, body=body, status=status, match=[matchers.header_matcher({"X-Cassandra-Token": TOKEN})]
    )

    # When the document is deleted
    # Then there is no error
    assert client().delete(DOCUMENT_ID) is None


def test_delete_in_a_missing_namespace_is_a_store_error(stargate: responses.RequestsMock) -> None:
    # Given the namespace was never created
    stargate.delete(DOCUMENT_URL, json=NO_NAMESPACE, status=404)

    # When a document is deleted
    # Then the caller is told, instead of a silent success
    with pytest.raises(StoreError, match=NAMESPACE):
        client().delete(DOCUMENT_ID)


# --- search ------------------------------------------------------------------------------------------


def test_search_sends_page_size_where_and_page_state(stargate: responses.RequestsMock) -> None:
    # Given a page state with characters that need URL encoding
    page_state = "AbC-_+/=="
    where = {"status": {"$eq": "PAID"}}
    stargate.get(COLLECTION_URL, json={"data": {}})

    # When a page is searched for
    client().search(where, page_size=7, page_state=page_state)

    # Then Stargate reads exactly the values the caller gave
    sent = query_of(stargate.calls[0])
    assert sent["page-size"] == "7"
    assert json.loads(sent["where"]) == where
    assert sent["page-state"] == page_state
    assert stargate.calls[0].request.headers["X-Cassandra-Token"] == TOKEN


def test_search_without_filter_or_page_state_sends_only_the_page_size(
    stargate: responses.RequestsMock,
) -> None:
    # Given a Stargate collection
    stargate.get(COLLECTION_URL, json={"data": {}})

    # When the first page of everything is asked for
    client().search()

    # Then only the page size (the maximum, 20) is sent
    assert query_of(stargate.calls[0]) == {"page-size": "20"}


def test_search_returns_documents_by_id_and_the_next_page_state(stargate: responses.RequestsMock) -> None:
    # Given a page that is not the last one
    stargate.get(COLLECTION_URL, json={"pageState": "next-1", "data": {"a": {"n": 1}, "b": {"n": 2}}})

    # When it is searched
    page = client().search(page_size=2)

    # Then the caller gets the documents and where to continue
    assert page == SearchPage({"a": {"n": 1}, "b": {"n": 2}}, "next-1")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"data": {"a": {"n": 1}}}, id="absent"),
        pytest.param({"pageState": None, "data": {"a": {"n": 1}}}, id="null"),
        pytest.param({"pageState": "", "data": {"a": {"n": 1}}}, id="empty"),
    ],
)
def test_search_last_page_has_no_page_state(stargate: responses.RequestsMock, body: dict[str, Any]) -> None:
    # Given the last page of results
    stargate.get(COLLECTION_URL, json=body)

    # When it is searched
    page = client().search()

    # Then there is no next page
    assert page.page_state is None
    assert page.documents == {"a": {"n": 1}}


def test_search_of_a_missing_collection_is_an_empty_page(stargate: responses.RequestsMock) -> None:
    # Given nothing was ever written, so the collection does not exist
    stargate.get(COLLECTION_URL, json=NO_COLLECTION, status=404)

    # When it is searched
    page = client().search()

    # Then the result is simply empty
    assert page == SearchPage({}, None)


def test_search_in_a_missing_namespace_is_a_store_error(stargate: responses.RequestsMock) -> None:
    # Given the namespace was never created
    stargate.get(COLLECTION_URL, json=NO_NAMESPACE, status=404)

    # When the collection is searched
    # Then the caller is told
    with pytest.raises(StoreError, match=NAMESPACE):
        client().search()


def test_search_rejected_page_state_is_an_invalid_cursor(stargate: responses.RequestsMock) -> None:
    # Given Stargate does not accept the page state
    stargate.get(COLLECTION_URL, json=stargate_error("Invalid page state", 400), status=400)

    # When a page is searched with it
    # Then the caller's cursor is declared invalid (a 400 for the API client, not a store failure)
    with pytest.raises(InvalidCursor):
        client().search(page_state="bogus")


def test_search_answered_400_without_page_state_is_a_store_error(stargate: responses.RequestsMock) -> None:
    # Given Stargate rejects the search itself
    stargate.get(COLLECTION_URL, json=stargate_error("Request invalid: bad where", 400), status=400)

    # When a page is searched without a page state
    with pytest.raises(StoreError) as raised:
        client().search({"status": {"$eq": "PAID"}})

    # Then it is our mistake towards the store, not the caller's cursor
    assert not isinstance(raised.value, InvalidCursor)
    assert raised.value.status_code == 502


def test_search_answer_without_data_is_a_store_error(stargate: responses.RequestsMock) -> None:
    # Given Stargate answers 200 without a data object
    stargate.get(COLLECTION_URL, json={"pageState": "x"})

    # When it is searched
    # Then the caller gets a store failure
    with pytest.raises(StoreError):
        client().search()


# --- 401 and tokens ----------------------------------------------------------------------------------


def unauthorized() -> dict[str, Any]:
    return stargate_error("Role unauthorized for operation: authorization failed", 401)


def password_login() -> PasswordLogin:
    return PasswordLogin(AUTH_URL, Login("cassandra", PASSWORD), new_session(), (1.0, 2.0))


def auth_answer(mock: responses.RequestsMock, token: str) -> responses.BaseResponse:
    return mock.post(
        f"{AUTH_URL}/v1/auth",
        json={"authToken": token},
        status=201,
        match=[matchers.json_params_matcher({"username": "cassandra", "password": PASSWORD})],
    )


def with_token(token: str) -> list[Any]:
    return [matchers.header_matcher({"X-Cassandra-Token": token})]


def test_expired_login_token_is_renewed_once_and_the_call_repeated_with_the_new_token(
    stargate_in_order: responses.RequestsMock,
) -> None:
    # Given a login whose first token Stargate no longer accepts
    auth_answer(stargate_in_order, "token-1")
    stargate_in_order.get(DOCUMENT_URL, json=unauthorized(), status=401, match=with_token("token-1"))
    auth_answer(stargate_in_order, "token-2")
    stargate_in_order.get(DOCUMENT_URL, json=DOCUMENT, match=with_token("token-2"))

    # When a document is read
    found = client(password_login()).get(DOCUMENT_ID)

    # Then the caller gets the document: one new login, one repeat with the new token
    assert found == DOCUMENT
    assert [call.request.method for call in stargate_in_order.calls] == ["POST", "GET", "POST", "GET"]


def test_login_token_rejected_twice_is_a_store_error_without_secrets(
    stargate_in_order: responses.RequestsMock,
) -> None:
    # Given Stargate rejects every token the login gets
    auth_answer(stargate_in_order, "token-1")
    stargate_in_order.put(DOCUMENT_URL, json=unauthorized(), status=401, match=with_token("token-1"))
    auth_answer(stargate_in_order, "token-2")
    stargate_in_order.put(DOCUMENT_URL, json=unauthorized(), status=401, match=with_token("token-2"))

    # When a document is written
    with pytest.raises(StoreError) as raised:
        client(password_login()).put(DOCUMENT_ID, DOCUMENT)

    # Then the caller gets a store error after exactly one renewal, and no secret is in it
    assert type(raised.value) is StoreCredentialsRejected
    assert len(stargate_in_order.calls) == 4
    assert_no_secret(raised.value, "token-1", "token-2", PASSWORD)


def test_fixed_token_rejected_is_a_store_error_without_retry(stargate: responses.RequestsMock) -> None:
    # Given Stargate rejects the configured token
    stargate.get(DOCUMENT_URL, json=unauthorized(), status=401)

    # When a document is read
    with pytest.raises(StoreError) as raised:
        client(FixedToken(TOKEN)).get(DOCUMENT_ID)

    # Then there was one call only, and the token is not in the error
    assert type(raised.value) is StoreCredentialsRejected
    assert len(stargate.calls) == 1
    assert_no_secret(raised.value, TOKEN)


def test_forbidden_is_a_store_error_without_secrets(stargate: responses.RequestsMock) -> None:
    # Given Stargate forbids the operation to this token
    stargate.delete(DOCUMENT_URL, json=stargate_error("Role unauthorized for operation", 403), status=403)

    # When a document is deleted
    # Then the caller gets a store error that does not show the token
    with pytest.raises(StoreError) as raised:
        client().delete(DOCUMENT_ID)
    assert_no_secret(raised.value, TOKEN)


def test_login_refused_during_renewal_is_a_store_error_without_the_password(
    stargate_in_order: responses.RequestsMock,
) -> None:
    # Given the password was changed after the first token was issued
    auth_answer(stargate_in_order, "token-1")
    stargate_in_order.get(DOCUMENT_URL, json=unauthorized(), status=401)
    stargate_in_order.post(
        f"{AUTH_URL}/v1/auth",
        json={"description": "Failed to create token: Provided username cassandra and/or password are wrong"},
        status=401,
    )

    # When a document is read
    with pytest.raises(StoreError) as raised:
        client(password_login()).get(DOCUMENT_ID)

    # Then the caller gets a store error and the password is nowhere in it
    assert_no_secret(raised.value, PASSWORD, "token-1")
