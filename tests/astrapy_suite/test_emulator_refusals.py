"""What astrapy exposes that the embedded server does not emulate is refused cleanly, with the code the
coverage table gives, as an exception astrapy understands. Real servers have these features, so these
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


def test_a_vector_collection_is_refused(database: Database) -> None:
    name = f"vectors_{uuid.uuid4().hex[:8]}"
    definition = CollectionDefinition().with_vector_dimension(3)

    assert _refusal(lambda: database.create_collection(name, definition=definition)) == [
        "COMMAND_FIELD_VALUE_INVALID"
    ]
    assert name not in database.list_collection_names()


def test_find_and_rerank_is_an_unknown_command(collection: Collection) -> None:
    assert _refusal(lambda: collection.find_and_rerank({}, sort={"$hybrid": "tea"}).to_list()) == [
        "COMMAND_UNKNOWN"
    ]


def test_tables_are_unknown_commands(database: Database) -> None:
    definition = {"columns": {"id": "text"}, "primaryKey": "id"}

    assert _refusal(lambda: database.create_table("t1", definition=definition)) == ["COMMAND_UNKNOWN"]
    assert _refusal(database.list_table_names) == ["COMMAND_UNKNOWN"]


def test_embedding_providers_are_an_unknown_command(database: Database) -> None:
    assert _refusal(database.get_database_admin().find_embedding_providers) == ["COMMAND_UNKNOWN"]
