"""The pre-traffic hook: it calls a new version with read-only requests and tells CodeDeploy the verdict."""

from __future__ import annotations

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
from tests.infra.synthesis import load_pre_traffic_hook

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    return load_pre_traffic_hook()


def lambda_invoking(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """``lambda.invoke`` as boto3 gives it, answered by ``handler`` in process."""

    def invoke(FunctionName: str, Payload: bytes) -> dict[str, Any]:
        from localdev.api import LocalContext

        result = handler(json.loads(Payload), LocalContext())
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}

    return invoke


# What CodeDeploy sends the hook.
HOOK_EVENT = {"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "h-1"}


def runtime_boto3(monkeypatch: pytest.MonkeyPatch, invoke: Any) -> list[dict[str, str]]:
    """The Lambda runtime's boto3 as the hook sees it, with ``invoke`` for Lambda's ``invoke``, and the
    version to check in the environment; the list fills with the verdicts sent to CodeDeploy."""
    reported: list[dict[str, str]] = []
    clients = {
        "lambda": SimpleNamespace(invoke=invoke),
        "codedeploy": SimpleNamespace(
            put_lifecycle_event_hook_execution_status=lambda **kw: reported.append(kw)
        ),
    }
    monkeypatch.setitem(sys.modules, "boto3", SimpleNamespace(client=clients.__getitem__))
    monkeypatch.setenv("TARGET_VERSION_ARN", "arn:aws:lambda:eu-west-1:123456789012:function:orders:7")
    return reported


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
    reported = runtime_boto3(monkeypatch, invoke=None)
    monkeypatch.setattr(hook, "check", lambda invoke, target, mode, remaining_ms: problems)

    hook.handler(HOOK_EVENT, None)

    assert reported == [{"deploymentId": "d-1", "lifecycleEventHookExecutionId": "h-1", "status": status}]


def test_checks_that_cannot_run_fail_the_deployment(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_invoke(**kwargs: Any) -> Any:
        raise RuntimeError("AccessDenied")

    reported = runtime_boto3(monkeypatch, invoke=broken_invoke)

    hook.handler(HOOK_EVENT, None)

    assert [report["status"] for report in reported] == ["Failed"]


class Context:
    """A Lambda context whose remaining time is whatever a test sets."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_a_hook_short_of_time_starts_no_check_it_could_not_finish_and_still_reports(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a new version whose first answer takes so long that the hook has 20 s left afterwards
    invoked: list[str] = []
    context = Context(remaining_ms=10 * 60_000)

    def slow_invoke(FunctionName: str, Payload: bytes) -> dict[str, Any]:
        invoked.append(json.loads(Payload)["rawPath"])
        context.remaining_ms = 20_000
        # A right answer: only the checks not made can fail the release.
        answer = {"statusCode": 200, "body": "{}"}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}

    reported = runtime_boto3(monkeypatch, invoke=slow_invoke)

    # When the hook runs
    hook.handler(HOOK_EVENT, context)

    # Then it stops after the one check, and CodeDeploy hears the verdict before Lambda ends the hook:
    # a release whose checks were not all made does not pass
    assert invoked == ["/openapi.json"]
    assert [report["status"] for report in reported] == ["Failed"]
    verdict = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert verdict["problems"] == ["GET /orders: not checked, the hook ran out of time"]


def test_the_verdict_is_sent_even_when_the_checks_are_interrupted(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any) -> list[str]:
        raise KeyboardInterrupt

    reported = runtime_boto3(monkeypatch, invoke=None)
    monkeypatch.setattr(hook, "check", interrupted)

    with pytest.raises(KeyboardInterrupt):
        hook.handler(HOOK_EVENT, Context(60_000))

    assert [report["status"] for report in reported] == ["Failed"]
