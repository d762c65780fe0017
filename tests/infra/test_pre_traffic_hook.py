"""The pre-traffic hook: it calls a new version with read-only requests and tells CodeDeploy the verdict."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from orders_api import handler as orders_handler
from orders_api.store import factory
from tests.fakes import InMemoryOrderStore
from tests.infra.synthesis import REPO_ROOT

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    path = REPO_ROOT / "cdk_app" / "hooks" / "pre_traffic" / "pre_traffic.py"
    spec = importlib.util.spec_from_file_location("pre_traffic", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lambda_invoking(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """``lambda.invoke`` as boto3 gives it, answered by ``handler`` in process."""

    def invoke(FunctionName: str, Payload: bytes) -> dict[str, Any]:
        from localdev.api import LocalContext

        result = handler(json.loads(Payload), LocalContext())
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}

    return invoke


@pytest.fixture
def orders_store(monkeypatch: pytest.MonkeyPatch) -> InMemoryOrderStore:
    memory = InMemoryOrderStore()
    monkeypatch.setattr(factory, "_store", memory)
    return memory


@pytest.mark.parametrize("auth_mode", ["iam", "jwt", "none"])
def test_a_healthy_version_passes_and_nothing_is_written(
    hook: ModuleType,
    orders_store: InMemoryOrderStore,
    monkeypatch: pytest.MonkeyPatch,
    auth_mode: str,
) -> None:
    monkeypatch.setenv("ORDERS_API_AUTH", auth_mode)

    problems = hook.check(lambda_invoking(orders_handler.lambda_handler), "arn:version:7", auth_mode)

    assert problems == []
    assert orders_store.orders == {}


def test_a_version_whose_store_fails_is_refused(
    hook: ModuleType, orders_store: InMemoryOrderStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders_api.errors import StoreUnavailable

    def unavailable(*args: Any) -> Any:
        raise StoreUnavailable("down")

    monkeypatch.setattr(orders_store, "list", unavailable)

    problems = hook.check(lambda_invoking(orders_handler.lambda_handler), "arn:version:7", "iam")

    assert problems == ["GET /orders: expected 200, got 503"]


def test_a_version_that_crashes_is_refused(hook: ModuleType) -> None:
    def crashing(FunctionName: str, Payload: bytes) -> dict[str, Any]:
        error = {"errorMessage": "No module named 'orders_api'", "errorType": "Runtime.ImportModuleError"}
        return {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": io.BytesIO(json.dumps(error).encode()),
        }

    problems = hook.check(crashing, "arn:version:7", "iam")

    assert len(problems) == 4
    assert all("function error Unhandled" in problem for problem in problems)


@pytest.mark.parametrize(("problems", "status"), [([], "Succeeded"), (["GET /orders: x"], "Failed")])
def test_the_verdict_goes_to_codedeploy(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch, problems: list[str], status: str
) -> None:
    reported: list[dict[str, str]] = []
    clients = {
        "lambda": SimpleNamespace(invoke=None),
        "codedeploy": SimpleNamespace(
            put_lifecycle_event_hook_execution_status=lambda **kw: reported.append(kw)
        ),
    }
    monkeypatch.setitem(sys.modules, "boto3", SimpleNamespace(client=clients.__getitem__))
    monkeypatch.setattr(hook, "check", lambda invoke, target, mode: problems)
    monkeypatch.setenv("TARGET_VERSION_ARN", "arn:aws:lambda:eu-west-1:123456789012:function:orders:7")

    hook.handler({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "h-1"}, None)

    assert reported == [{"deploymentId": "d-1", "lifecycleEventHookExecutionId": "h-1", "status": status}]


def test_checks_that_cannot_run_fail_the_deployment(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[dict[str, str]] = []

    def broken_invoke(**kwargs: Any) -> Any:
        raise RuntimeError("AccessDenied")

    clients = {
        "lambda": SimpleNamespace(invoke=broken_invoke),
        "codedeploy": SimpleNamespace(
            put_lifecycle_event_hook_execution_status=lambda **kw: reported.append(kw)
        ),
    }
    monkeypatch.setitem(sys.modules, "boto3", SimpleNamespace(client=clients.__getitem__))
    monkeypatch.setenv("TARGET_VERSION_ARN", "arn:aws:lambda:eu-west-1:123456789012:function:orders:7")

    hook.handler({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "h-1"}, None)

    assert [report["status"] for report in reported] == ["Failed"]
