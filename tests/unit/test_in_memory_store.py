"""The in-memory fake the handler tests use keeps the ``OrderStore`` contract the real stores keep."""

from __future__ import annotations

import pytest

from tests.contract.order_store_contract import OrderStoreContract
from tests.fakes import InMemoryOrderStore


class TestInMemoryOrderStore(OrderStoreContract):
    @pytest.fixture
    def order_store(self) -> InMemoryOrderStore:
        return InMemoryOrderStore()
