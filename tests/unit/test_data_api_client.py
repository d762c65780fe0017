"""DataApiCollection against recorded Data API answers: what each answer becomes for the caller.

The Data API is played by ``responses``: every command is a POST of one JSON command, and almost every
failure is an HTTP 200 carrying ``errors[]``. The session is the production one from ``new_session()``.
The client's own back-off (``time.sleep`` between attempts) is recorded instead of waited for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from http.client import RemoteDisconnected
from typing import Any
from uuid import UUID

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry
from urllib3.exceptions import ProtocolError

from orders_api import secret_values
from orders_api.errors import (
    ConcurrentUpdate,
    StoreAnswerBroken,
    StoreCredentialsRejected,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
)
from orders_api.settings import StoreSettings
from orders_api.store.data_api_client import CollectionMissing, DataApiCollection, FoundPage
from orders_api.store.factory import build_store, build_tokens
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken, Login, TokenSource, cassandra_token
from tests.fakes import refused_connection

BASE_URL = "http://data-api.test:8181"
KEYSPACE = "shop"
COLLECTION = "orders"
KEYSPACE_URL = f"{BASE_URL}/v1/{KEYSPACE}"
COLLECTION_URL = f"{KEYSPACE_URL}/{COLLECTION}"
TOKEN = "AstraCS:tOkEn-4b1d-never-shown"
DOCUMENT_ID = "6f1b1c1e-8a36-4f0e-9a43-2b1f6a0f7c11"
DOCUMENT = {"_id": DOCUMENT_ID, "productName": "Tea", "status": "PENDING", "nested": {"a": [1, None]}}
CASSANDRA_TOKEN = "Cassandra:Y2Fzc2FuZHJh:Y2Fzc2FuZHJh"


def data_api_error(code: str, **answer: Any) -> dict[str, Any]:
    """The Data API's answer (HTTP 200) carrying one error with ``code``."""
    error = {
        "id": "0b6f9d0e-3f7e-4c43-8a8e-2d6a3d0b9e11",
        "family": "REQUEST",
        "scope": "",
        "errorCode": code,
        "title": f"Title of {code}",
        "message": f"Message of {code}",
    }
    return {**answer, "errors": [error]}


def client(tokens: TokenSource | None = None) -> DataApiCollection:
    return DataApiCollection(
        BASE_URL + "/", KEYSPACE, COLLECTION, tokens or FixedToken(TOKEN), new_session(), (1.0, 2.0)
    )


def sent(call: Any) -> dict[str, Any]:
    """The JSON command a recorded request carried."""
    body: dict[str, Any] = json.loads(call.request.body)
    return body


def assert_no_secret(error: BaseException, *secrets: str) -> None:
    texts = [str(error), repr(error)]
    for secret in secrets:
        assert all(secret not in text for text in texts), f"{secret!r} leaked into {texts!r}"


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The back-off the client asked for, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr("orders_api.store.http.time.sleep", waited.append)
    return waited


@pytest.fixture
def data_api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def data_api_in_order() -> Iterator[responses.RequestsMock]:
    """A Data API whose answers must be asked for exactly in the order they were registered."""
    with responses.RequestsMock(registry=OrderedRegistry) as mock:
        yield mock


# One call of every collection-level command, with the answer each gives for an empty collection.
OPERATIONS: dict[str, Callable[[DataApiCollection], Any]] = {
    "insert_one": lambda c: c.insert_one(DOCUMENT),
    "find_one": lambda c: c.find_one({"_id": DOCUMENT_ID}),
    "find": lambda c: c.find({}),
    "update_one": lambda c: c.update_one({"_id": DOCUMENT_ID}, {"$set": {"status": "PAID"}}),
    "delete_one": lambda c: c.delete_one({"_id": DOCUMENT_ID}),
}


# --- envelope and headers ----------------------------------------------------------------------------


def test_every_command_carries_the_token_and_json_content_type(data_api: responses.RequestsMock) -> None:
    # Given a Data API that answers only calls carrying the token as JSON
    data_api.post(
        COLLECTION_URL,
        json={"data": {"document": None}},
        match=[matchers.header_matcher({"Token": TOKEN, "Content-Type": "application/json"})],
    )

    # When a document is looked up
    found = client().find_one({"_id": DOCUMENT_ID})

    # Then the call was accepted (and nothing was found)
    assert found is None
    assert len(data_api.calls) == 1


# --- insertOne ---------------------------------------------------------------------------------------


def test_insert_one_sends_the_document_and_reports_it_new(data_api: responses.RequestsMock) -> None:
    # Given the Data API accepts the insert
    data_api.post(
        COLLECTION_URL,
        json={"status": {"insertedIds": [DOCUMENT_ID]}},
        match=[matchers.json_params_matcher({"insertOne": {"document": DOCUMENT}})],
    )

    # When the document is inserted
    inserted = client().insert_one(DOCUMENT)

    # Then it is reported as inserted, in one call
    assert inserted is True
    assert len(data_api.calls) == 1


def test_insert_one_of_an_existing_id_is_false_not_an_error(data_api: responses.RequestsMock) -> None:
    # Given the id is taken: HTTP 200, nothing inserted, DOCUMENT_ALREADY_EXISTS
    data_api.post(
        COLLECTION_URL,
        json=data_api_error("DOCUMENT_ALREADY_EXISTS", status={"insertedIds": []}),
        status=200,
    )

    # When the document is inserted
    inserted = client().insert_one(DOCUMENT)

    # Then the caller learns it was not inserted, without an error or a retry
    assert inserted is False
    assert len(data_api.calls) == 1


# --- findOne -----------------------------------------------------------------------------------------


def test_find_one_returns_the_document(data_api: responses.RequestsMock) -> None:
    # Given the document is stored
    data_api.post(
        COLLECTION_URL,
        json={"data": {"document": DOCUMENT}},
        match=[matchers.json_params_matcher({"findOne": {"filter": {"_id": DOCUMENT_ID}}})],
    )

    # When it is looked up by id
    found = client().find_one({"_id": DOCUMENT_ID})

    # Then the caller gets it as stored
    assert found == DOCUMENT


def test_find_one_of_nothing_is_none(data_api: responses.RequestsMock) -> None:
    # Given nothing matches: the Data API writes out "document": null
    data_api.post(COLLECTION_URL, json={"data": {"document": None}})

    # When a document is looked up
    # Then there is none
    assert client().find_one({"_id": DOCUMENT_ID}) is None


# --- find --------------------------------------------------------------------------------------------


def test_find_first_page_sends_no_page_state_and_returns_the_next(data_api: responses.RequestsMock) -> None:
    # Given a first page with more to come
    data_api.post(
        COLLECTION_URL,
        json={"data": {"documents": [DOCUMENT], "nextPageState": "state-2"}},
        match=[matchers.json_params_matcher({"find": {"filter": {"status": "PAID"}, "options": {}}})],
    )

    # When the first page is asked for
    page = client().find({"status": "PAID"})

    # Then the documents and the state of the next page come back
    assert page == FoundPage([DOCUMENT], "state-2")


def test_find_passes_the_page_state_and_ends_on_null(data_api: responses.RequestsMock) -> None:
    # Given the last page, reached with a page state
    data_api.post(
        COLLECTION_URL,
        json={"data": {"documents": [DOCUMENT], "nextPageState": None}},
        match=[matchers.json_params_matcher({"find": {"filter": {}, "options": {"pageState": "state-2"}}})],
    )

    # When that page is asked for
    page = client().find({}, "state-2")

    # Then it is the last one
    assert page == FoundPage([DOCUMENT], None)


def test_find_answered_without_documents_is_a_store_error(data_api: responses.RequestsMock) -> None:
    # Given an answer that is not a page of documents
    data_api.post(COLLECTION_URL, json={"data": {}})

    # When a page is asked for
    # Then the caller gets a store failure
    with pytest.raises(StoreError):
        client().find({})


# --- updateOne, deleteOne, createCollection ----------------------------------------------------------


@pytest.mark.parametrize("matched", [0, 1])
def test_update_one_reports_how_many_matched(data_api: responses.RequestsMock, matched: int) -> None:
    # Given the Data API applies (or does not match) a compare-and-set
    filter_ = {"_id": DOCUMENT_ID, "status": "PENDING"}
    update = {"$set": {"status": "PAID"}}
    data_api.post(
        COLLECTION_URL,
        json={"status": {"matchedCount": matched, "modifiedCount": matched}},
        match=[matchers.json_params_matcher({"updateOne": {"filter": filter_, "update": update}})],
    )

    # When the update is sent
    # Then the caller learns whether it matched
    assert client().update_one(filter_, update) == matched


@pytest.mark.parametrize("deleted", [0, 1])
def test_delete_one_reports_how_many_were_deleted(data_api: responses.RequestsMock, deleted: int) -> None:
    # Given the Data API deletes the document (or finds none)
    data_api.post(
        COLLECTION_URL,
        json={"status": {"deletedCount": deleted}},
        match=[matchers.json_params_matcher({"deleteOne": {"filter": {"_id": DOCUMENT_ID}}})],
    )

    # When it is deleted
    # Then the caller learns how many went
    assert client().delete_one({"_id": DOCUMENT_ID}) == deleted


def test_create_collection_is_sent_to_the_keyspace(data_api: responses.RequestsMock) -> None:
    # Given the keyspace endpoint accepts the command
    data_api.post(
        KEYSPACE_URL,
        json={"status": {"ok": 1}},
        match=[
            matchers.json_params_matcher({"createCollection": {"name": COLLECTION}}),
            matchers.header_matcher({"Token": TOKEN}),
        ],
    )

    # When the collection is created
    client().create_collection()

    # Then it succeeded, with one call to the keyspace URL (not the collection URL)
    assert [call.request.url for call in data_api.calls] == [KEYSPACE_URL]


# --- missing collection and keyspace -----------------------------------------------------------------

COLLECTION_MISSING_CODES = ["COLLECTION_NOT_EXIST", "UNKNOWN_COLLECTION_OR_TABLE"]
KEYSPACE_MISSING_CODES = ["KEYSPACE_DOES_NOT_EXIST", "UNKNOWN_KEYSPACE"]


@pytest.mark.parametrize("code", COLLECTION_MISSING_CODES)
@pytest.mark.parametrize(
    ("operation", "empty"),
    [
        pytest.param("find_one", None, id="find_one-none"),
        pytest.param("find", FoundPage([], None), id="find-empty-last-page"),
        pytest.param("update_one", 0, id="update_one-0"),
        pytest.param("delete_one", 0, id="delete_one-0"),
    ],
)
def test_reads_and_changes_in_a_missing_collection_find_nothing(
    data_api: responses.RequestsMock, code: str, operation: str, empty: Any
) -> None:
    # Given the collection was never created (old or new error code)
    data_api.post(COLLECTION_URL, json=data_api_error(code))

    # When it is read or changed
    result = OPERATIONS[operation](client())

    # Then it behaves as an empty collection, without retrying
    assert result == empty
    assert len(data_api.calls) == 1


@pytest.mark.parametrize("code", COLLECTION_MISSING_CODES)
def test_insert_into_a_missing_collection_raises_collection_missing(
    data_api: responses.RequestsMock, code: str
) -> None:
    # Given the collection was never created
    data_api.post(COLLECTION_URL, json=data_api_error(code))

    # When a document is inserted
    with pytest.raises(CollectionMissing) as raised:
        client().insert_one(DOCUMENT)

    # Then the caller is told the collection is missing (so it can create it), after one call
    assert COLLECTION in str(raised.value)
    assert len(data_api.calls) == 1


@pytest.mark.parametrize("code", KEYSPACE_MISSING_CODES)
@pytest.mark.parametrize("operation", [*OPERATIONS, "create_collection"])
def test_a_missing_keyspace_is_a_store_error_naming_it(
    data_api: responses.RequestsMock, code: str, operation: str
) -> None:
    # Given the keyspace does not exist (old or new error code), whichever endpoint is asked
    url = KEYSPACE_URL if operation == "create_collection" else COLLECTION_URL
    data_api.post(url, json=data_api_error(code))
    call: Callable[[DataApiCollection], Any] = OPERATIONS.get(operation, DataApiCollection.create_collection)

    # When any command is sent
    with pytest.raises(StoreError) as raised:
        call(client())

    # Then it is a 502 store failure naming the keyspace: never "nothing found", never retried
    assert not isinstance(raised.value, CollectionMissing)
    assert raised.value.status_code == 502
    assert KEYSPACE in str(raised.value)
    assert len(data_api.calls) == 1


# --- timeouts, unavailability and retries ------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["SERVER_READ_FAILED", "SERVER_DRIVER_TIMEOUT", "TIMEOUT_READING_DATA", "TIMEOUT_WRITING_DATA"]
)
@pytest.mark.parametrize("operation", ["find_one", "insert_one"])
def test_database_timeouts_are_retried_then_a_store_timeout(
    data_api: responses.RequestsMock, sleeps: list[float], code: str, operation: str
) -> None:
    # Given the database keeps timing out (HTTP 200 with a timeout error)
    data_api.post(COLLECTION_URL, json=data_api_error(code))

    # When a command is sent
    with pytest.raises(StoreTimeout) as raised:
        OPERATIONS[operation](client())

    # Then it was tried three times with growing back-off, and the caller gets a 504 naming the code
    assert len(data_api.calls) == 3
    assert sleeps == [0.2, 0.4]
    assert raised.value.status_code == 504
    assert code in str(raised.value)


def test_unavailable_database_is_retried_then_store_unavailable(data_api: responses.RequestsMock) -> None:
    # Given the database says it is unavailable
    data_api.post(COLLECTION_URL, json=data_api_error("UNAVAILABLE_DATABASE"))

    # When a document is looked up
    with pytest.raises(StoreUnavailable) as raised:
        client().find_one({"_id": DOCUMENT_ID})

    # Then it was tried three times and the caller gets a 503
    assert len(data_api.calls) == 3
    assert raised.value.status_code == 503


@pytest.mark.parametrize(
    "first",
    [
        pytest.param({"status": 503, "body": ""}, id="http-503"),
        pytest.param({"status": 504, "body": ""}, id="http-504"),
        pytest.param({"json": data_api_error("TIMEOUT_READING_DATA")}, id="timeout-code"),
        pytest.param({"body": requests.ConnectionError("reset")}, id="connection-reset"),
    ],
)
def test_a_transient_failure_then_success_is_invisible_to_the_caller(
    data_api_in_order: responses.RequestsMock, sleeps: list[float], first: dict[str, Any]
) -> None:
    # Given the Data API hiccups once, then answers
    data_api_in_order.post(COLLECTION_URL, **first)
    data_api_in_order.post(COLLECTION_URL, json={"data": {"document": DOCUMENT}})

    # When a document is looked up
    found = client().find_one({"_id": DOCUMENT_ID})

    # Then the caller gets the document; the command was sent twice, identically
    assert found == DOCUMENT
    assert len(data_api_in_order.calls) == 2
    assert sent(data_api_in_order.calls[0]) == sent(data_api_in_order.calls[1])
    assert sleeps == [0.2]


@pytest.mark.parametrize(
    ("status", "error_type", "http_status"),
    [
        pytest.param(429, StoreUnavailable, 503, id="429"),
        pytest.param(502, StoreUnavailable, 503, id="502"),
        pytest.param(503, StoreUnavailable, 503, id="503"),
        pytest.param(504, StoreTimeout, 504, id="504"),
    ],
)
def test_gateway_statuses_are_retried_then_a_domain_error(
    data_api: responses.RequestsMock, status: int, error_type: type[StoreError], http_status: int
) -> None:
    # Given Astra's gateway keeps answering an error status
    data_api.post(COLLECTION_URL, body="<html>gateway</html>", status=status)

    # When a document is inserted
    with pytest.raises(error_type) as raised:
        client().insert_one(DOCUMENT)

    # Then it was tried three times in all and the caller gets the matching error
    assert len(data_api.calls) == 3
    assert raised.value.status_code == http_status


@pytest.mark.parametrize(
    ("failure", "error_type", "http_status"),
    [
        pytest.param(refused_connection(COLLECTION_URL), StoreUnavailable, 503, id="connection-refused"),
        pytest.param(
            requests.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected())),
            StoreAnswerBroken,
            502,
            id="connection-dropped",
        ),
        pytest.param(requests.ReadTimeout("read timed out"), StoreTimeout, 504, id="read-timeout"),
        pytest.param(requests.ConnectTimeout("connect timed out"), StoreTimeout, 504, id="connect-timeout"),
    ],
)
def test_network_failures_are_retried_then_a_domain_error(
    data_api: responses.RequestsMock, failure: Exception, error_type: type[StoreError], http_status: int
) -> None:
    # Given the network keeps failing the call
    data_api.post(COLLECTION_URL, body=failure)

    # When a document is looked up
    with pytest.raises(error_type) as raised:
        client().find_one({"_id": DOCUMENT_ID})

    # Then it was tried three times and the caller gets a domain error, never a requests exception
    assert len(data_api.calls) == 3
    assert raised.value.status_code == http_status


# --- failures that are not retried -------------------------------------------------------------------


def test_a_rejected_fixed_token_is_a_store_error_without_retry(
    data_api: responses.RequestsMock, sleeps: list[float]
) -> None:
    # Given the Data API rejects the token
    data_api.post(COLLECTION_URL, json={"errors": [{"message": "UNAUTHENTICATED"}]}, status=401)

    # When a document is looked up
    with pytest.raises(StoreError) as raised:
        client(FixedToken(TOKEN)).find_one({"_id": DOCUMENT_ID})

    # Then the caller gets a 502 saying the token was rejected, after a single call
    assert type(raised.value) is StoreCredentialsRejected
    assert raised.value.status_code == 502
    assert "rejected" in str(raised.value)
    assert len(data_api.calls) == 1
    assert sleeps == []


class RenewableToken:
    """A token source that has a fresh token after a rejection."""

    def __init__(self) -> None:
        self.current = "old-token"

    def token(self) -> str:
        return self.current

    def renew(self, rejected: str) -> bool:
        self.current = "new-token"
        return rejected != self.current


def test_a_rejected_renewable_token_is_renewed_and_the_command_resent(
    data_api_in_order: responses.RequestsMock,
) -> None:
    # Given the Data API rejects the old token and accepts the new one
    data_api_in_order.post(
        COLLECTION_URL, status=401, match=[matchers.header_matcher({"Token": "old-token"})]
    )
    data_api_in_order.post(
        COLLECTION_URL,
        json={"data": {"document": DOCUMENT}},
        match=[matchers.header_matcher({"Token": "new-token"})],
    )

    # When a document is looked up
    found = client(RenewableToken()).find_one({"_id": DOCUMENT_ID})

    # Then the caller gets it
    assert found == DOCUMENT


@pytest.mark.parametrize("status", [404, 405, 415])
def test_an_unexpected_status_is_a_store_error_pointing_at_the_url(
    data_api: responses.RequestsMock, status: int
) -> None:
    # Given the URL or content type is wrong
    data_api.post(COLLECTION_URL, body="Not Found", status=status)

    # When a document is looked up
    with pytest.raises(StoreError) as raised:
        client().find_one({"_id": DOCUMENT_ID})

    # Then the caller gets a 502 naming the status and telling to check the URL, after one call
    assert type(raised.value) is StoreError
    assert raised.value.status_code == 502
    assert str(status) in str(raised.value)
    assert "URL" in str(raised.value)
    assert len(data_api.calls) == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("<html>ok</html>", id="html"),
        pytest.param("", id="empty"),
        pytest.param("[1, 2]", id="json-array"),
        pytest.param('"text"', id="json-string"),
    ],
)
def test_a_200_that_is_not_a_json_object_is_a_store_error(
    data_api: responses.RequestsMock, body: str
) -> None:
    # Given an answer that is not a Data API envelope
    data_api.post(COLLECTION_URL, body=body, status=200)

    # When a document is looked up
    # Then the caller gets a 502 store failure
    with pytest.raises(StoreError) as raised:
        client().find_one({"_id": DOCUMENT_ID})
    assert type(raised.value) is StoreError
    assert raised.value.status_code == 502


@pytest.mark.parametrize("code", ["CONCURRENCY_FAILURE", "FAILED_CONCURRENT_OPERATIONS"])
def test_a_lost_race_is_a_concurrent_update(data_api: responses.RequestsMock, code: str) -> None:
    # Given the server gave up on a contended update
    data_api.post(COLLECTION_URL, json=data_api_error(code))

    # When the update is sent
    # Then the caller is told another request changed the document, without a retry
    with pytest.raises(ConcurrentUpdate):
        client().update_one({"_id": DOCUMENT_ID}, {"$set": {"status": "PAID"}})
    assert len(data_api.calls) == 1


@pytest.mark.parametrize(
    "code", ["FILTER_INVALID_EXPRESSION", "COMMAND_FIELD_VALUE_INVALID", "SHRED_DOC_LIMIT_VIOLATION"]
)
def test_any_other_error_code_is_a_store_error_naming_it(data_api: responses.RequestsMock, code: str) -> None:
    # Given the server refuses the command for a reason the client does not map
    data_api.post(COLLECTION_URL, json=data_api_error(code))

    # When the command is sent
    with pytest.raises(StoreError) as raised:
        client().insert_one(DOCUMENT)

    # Then the caller gets a 502 carrying the code, without a retry
    assert raised.value.status_code == 502
    assert code in str(raised.value)
    assert len(data_api.calls) == 1


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"status": 401}, id="401"),
        pytest.param({"status": 403}, id="403"),
        pytest.param({"status": 404}, id="404"),
        pytest.param({"status": 503}, id="503"),
        pytest.param({"status": 504}, id="504"),
        pytest.param({"body": "not json"}, id="not-json"),
        pytest.param({"body": requests.ConnectionError(f"refused with {TOKEN}")}, id="connection-error"),
        pytest.param({"body": requests.ReadTimeout(f"timed out with {TOKEN}")}, id="read-timeout"),
        pytest.param({"json": data_api_error("UNKNOWN_KEYSPACE")}, id="missing-keyspace"),
        pytest.param({"json": data_api_error("UNKNOWN_COLLECTION_OR_TABLE")}, id="missing-collection"),
        pytest.param({"json": data_api_error("TIMEOUT_WRITING_DATA")}, id="timeout-code"),
        pytest.param({"json": data_api_error("UNAVAILABLE_DATABASE")}, id="unavailable"),
        pytest.param({"json": data_api_error("FAILED_CONCURRENT_OPERATIONS")}, id="lost-race"),
        pytest.param({"json": data_api_error("SOMETHING_NEW")}, id="unknown-code"),
    ],
)
def test_no_error_message_shows_the_token(data_api: responses.RequestsMock, answer: dict[str, Any]) -> None:
    # Given a failing Data API, some of whose failures even quote the token
    data_api.post(COLLECTION_URL, **answer)

    # When a document is inserted
    with pytest.raises((StoreError, ConcurrentUpdate)) as raised:
        client().insert_one(DOCUMENT)

    # Then the error is a domain error, and neither its message nor its repr shows the token
    assert_no_secret(raised.value, TOKEN)


# --- tokens for the Data API -------------------------------------------------------------------------


def test_cassandra_token_is_the_base64_username_and_password() -> None:
    # Given the default self-hosted credentials
    # When they are turned into a Data API token
    tokens = cassandra_token(Login("cassandra", "cassandra"))

    # Then it is the documented Cassandra:b64:b64 form, and it cannot be renewed
    assert tokens.token() == CASSANDRA_TOKEN
    assert tokens.renew(CASSANDRA_TOKEN) is False


def settings(**env: str) -> StoreSettings:
    return StoreSettings.from_env({"STORE_URL": BASE_URL, "STORE_NAMESPACE": KEYSPACE, **env})


def test_data_api_with_username_and_password_sends_the_cassandra_token(
    data_api: responses.RequestsMock,
) -> None:
    # Given a self-hosted Data API configured with a username and password
    config = settings(ORDERS_STORE_API="data", STORE_USERNAME="cassandra", STORE_PASSWORD="cassandra")
    data_api.post(
        COLLECTION_URL,
        json={"data": {"document": None}},
        match=[matchers.header_matcher({"Token": CASSANDRA_TOKEN})],
    )

    # When the token source is built, and an order is looked up through the store
    tokens = build_tokens(config, new_session())
    build_store(config, new_session()).get(UUID(DOCUMENT_ID))

    # Then the token is the Cassandra one, and the only call was to the Data API (no /v1/auth login)
    assert tokens.token() == CASSANDRA_TOKEN
    assert [call.request.url for call in data_api.calls] == [COLLECTION_URL]


def test_data_api_with_a_login_in_the_secret_uses_the_cassandra_token(
    data_api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the username and password live in a Secrets Manager secret
    read: list[str] = []

    def get_secret(name: str, what: str) -> dict[str, str]:
        read.append(name)
        return {"SecretString": json.dumps({"username": "cassandra", "password": "cassandra"})}

    monkeypatch.setattr(secret_values, "from_extension", get_secret)
    config = settings(ORDERS_STORE_API="data", STORE_SECRET_ID="orders/data-api")

    # When the token is asked for
    token = build_tokens(config, new_session()).token()

    # Then it is the Cassandra token, made from the secret without any HTTP call
    assert token == CASSANDRA_TOKEN
    assert read == ["orders/data-api"]
    assert len(data_api.calls) == 0


def test_document_api_with_username_and_password_logs_in_at_v1_auth(
    data_api: responses.RequestsMock,
) -> None:
    # Given the Document API configured with a username and password
    config = settings(ORDERS_STORE_API="documents", STORE_USERNAME="cassandra", STORE_PASSWORD="pw-1")
    data_api.post(
        f"{BASE_URL}/v1/auth",
        json={"authToken": "token-from-login"},
        status=201,
        match=[matchers.json_params_matcher({"username": "cassandra", "password": "pw-1"})],
    )

    # When the token is asked for
    token = build_tokens(config, new_session()).token()

    # Then it is the one the auth API handed out
    assert token == "token-from-login"
    assert len(data_api.calls) == 1
