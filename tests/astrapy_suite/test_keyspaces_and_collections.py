"""Keyspaces and collections through astrapy's database admin and ``Database``."""

from __future__ import annotations

import uuid

import pytest
from astrapy import Database
from astrapy.exceptions import DataAPIResponseException

from .conftest import AstraBackend
from .errors import error_codes


def test_keyspaces_are_created_listed_and_dropped(astra_backend: AstraBackend) -> None:
    if astra_backend.is_astra:
        pytest.skip("Astra creates keyspaces through its DevOps API, not through Data API commands")
    admin = astra_backend.database().get_database_admin()
    name = f"astrapy_ks_{uuid.uuid4().hex[:8]}"

    admin.create_keyspace(name)
    assert name in admin.list_keyspaces()
    fresh = astra_backend.database(keyspace=name)
    assert fresh.list_collection_names() == []

    admin.drop_keyspace(name)
    assert name not in admin.list_keyspaces()
    with pytest.raises(DataAPIResponseException) as raised:
        fresh.list_collection_names()
    assert error_codes(raised.value) == ["UNKNOWN_KEYSPACE"]


def test_collections_are_created_listed_described_and_dropped(database: Database) -> None:
    name = f"astrapy_{uuid.uuid4().hex[:12]}"

    created = database.create_collection(name)
    try:
        assert created.name == name
        assert created.keyspace == database.keyspace
        assert name in database.list_collection_names()
        (descriptor,) = [d for d in database.list_collections() if d.name == name]
        assert descriptor.definition.vector is None
        assert created.options().vector is None
        again = database.create_collection(name)  # the same definition again: no error
        assert again.name == name
    finally:
        database.drop_collection(name)
    assert name not in database.list_collection_names()


def test_a_collection_drops_itself(database: Database) -> None:
    name = f"astrapy_{uuid.uuid4().hex[:12]}"
    created = database.create_collection(name)

    created.drop()

    assert name not in database.list_collection_names()
