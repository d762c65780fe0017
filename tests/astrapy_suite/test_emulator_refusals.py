"""What astrapy exposes that the embedded server does not emulate is refused cleanly, with the code the
coverage table gives (as a Data API whose database has no lexical search, reranking or vectorize
would refuse it), as an exception astrapy understands. Real servers have these features, so these
tests run against the embedded server only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from astrapy import Collection, Database
from astrapy.info import CollectionDefinition

from .conftest import AstraBackend


@pytest.fixture(autouse=True)
def _emulator_only(astra_backend: AstraBackend) -> None:
    if not astra_backend.is_emulator:
        pytest.skip(
            f"{astra_backend.name} backend: only the embedded server refuses vectors, reranking, tables"
        )


def _refusal(call: Callable[[], Any]) -> list[str]:
    """The error codes of the ``DataAPIResponseException`` the call raises."""
    from astrapy.exceptions import DataAPIResponseException

    from .errors import error_codes

    with pytest.raises(DataAPIResponseException) as raised:
        call()
    return error_codes(raised.value)


def test_lexical_reranking_and_vectorize_collections_are_refused_as_a_database_without_them(
    database: Database,
) -> None:
    name = f"features_{uuid.uuid4().hex[:8]}"
    builder = CollectionDefinition.builder().with_vector_dimension(3)

    assert _refusal(
        lambda: database.create_collection(name, definition=builder.with_lexical("STANDARD").build())
    ) == ["LEXICAL_FEATURE_NOT_ENABLED"]
    assert _refusal(
        lambda: database.create_collection(name, definition=builder.with_rerank("nvidia", "m").build())
    ) == ["RERANKING_FEATURE_NOT_ENABLED"]
    assert _refusal(
        lambda: database.create_collection(
            name, definition=builder.with_vector_service("openai", "m").build()
        )
    ) == ["VECTORIZE_FEATURE_NOT_AVAILABLE"]
    assert name not in database.list_collection_names()


def test_find_and_rerank_is_an_unknown_command(collection: Collection) -> None:
    assert _refusal(lambda: collection.find_and_rerank({}, sort={"$hybrid": "tea"}).to_list()) == [
        "COMMAND_UNKNOWN"
    ]


def test_tables_are_unknown_commands(database: Database) -> None:
    definition = {"columns": {"id": "text"}, "primaryKey": "id"}

    assert _refusal(lambda: database.create_table("t1", definition=definition)) == ["COMMAND_UNKNOWN"]
    # What astrapy asks of a fresh database is answered: there are none
    assert database.list_table_names() == []
    assert database.list_type_names() == []


def test_there_are_no_embedding_or_reranking_providers(database: Database) -> None:
    admin = database.get_database_admin()

    assert admin.find_embedding_providers().embedding_providers == {}
    assert admin.find_reranking_providers().reranking_providers == {}
