"""SnapStart hooks: nothing that must not be shared survives into a snapshot or out of a restore."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

import pytest

from orders_api import secret_values, snapstart
from orders_api.store import factory


def test_without_the_snapstart_runtime_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_python", None)

    assert snapstart.register() is False


def test_the_hooks_are_registered_before_snapshot_and_after_restore(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: dict[str, list[Callable[[], None]]] = {"before": [], "after": []}
    runtime = ModuleType("snapshot_restore_python")
    runtime.register_before_snapshot = registered["before"].append  # type: ignore[attr-defined]
    runtime.register_after_restore = registered["after"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_python", runtime)

    assert snapstart.register() is True
    assert registered == {"before": [snapstart.before_snapshot], "after": [snapstart.forget_shared_state]}


@pytest.mark.parametrize(("extension_port", "loaded"), [("", True), ("2773", False)])
def test_boto3_goes_into_the_snapshot_only_where_secrets_are_read_with_it(
    monkeypatch: pytest.MonkeyPatch, extension_port: str, loaded: bool
) -> None:
    # Given a function without the extension (as the stack deploys it with SnapStart), or with it
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", extension_port)
    calls: list[str] = []
    monkeypatch.setattr(secret_values, "load_sdk", lambda: calls.append("load_sdk"))
    forgotten: list[str] = []
    monkeypatch.setattr(snapstart, "forget_shared_state", lambda: forgotten.append("forget"))

    # When the snapshot is about to be taken
    snapstart.before_snapshot()

    # Then shared state is dropped, and boto3 is imported only if the secrets need it
    assert forgotten == ["forget"]
    assert calls == (["load_sdk"] if loaded else [])


def test_after_a_restore_the_store_session_tokens_and_secrets_are_built_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a process that served requests: a store with its session and a cached secret
    monkeypatch.setenv("STORE_URL", "http://127.0.0.1:1/api/json")
    monkeypatch.setenv("STORE_NAMESPACE", "shop")
    monkeypatch.setenv("STORE_TOKEN", "token-1")
    monkeypatch.setattr(factory, "_store", None)
    monkeypatch.setattr(factory, "_seal", None)
    before = factory.get_store()
    seal = factory.get_cursor_seal()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    session, client = secret_values._session(), secret_values.secrets_manager_client()

    # When the process is restored from a snapshot
    snapstart.forget_shared_state()

    # Then the next request builds its own store (with a new session and tokens), seal and secret cache
    assert factory.get_store() is not before
    assert factory.get_cursor_seal() is not seal
    assert secret_values._session() is not session
    assert secret_values.secrets_manager_client() is not client
