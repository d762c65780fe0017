"""Unit tests never wait: the store's back-off between attempts is skipped (tests that check it record it)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("orders_api.store.http.time.sleep", lambda seconds: None)
