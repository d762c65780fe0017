"""``make run``'s execution environments behave as Lambda's: a process each with its own init, one
invocation at a time each, started on demand up to a cap, kept warm, replaced after a crash."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cdk_app.function import HANDLER as DEPLOYED_HANDLER
from localdev.api import http_api_event
from localdev.environments import HANDLER, ExecutionEnvironments, Invocation

PROBE = "tests.unit.environment_probe.handler"


@pytest.fixture
def two_environments() -> Iterator[ExecutionEnvironments]:
    environments = ExecutionEnvironments(2, PROBE)
    yield environments
    environments.close()


def call(environments: ExecutionEnvironments, query: str = "") -> Invocation:
    return environments.invoke(http_api_event("GET", f"/probe{query}"))


def body(invocation: Invocation) -> dict[str, Any]:
    return dict(json.loads(invocation.result["body"]))


def at_once(environments: ExecutionEnvironments, count: int, query: str) -> list[Invocation]:
    answers: list[Invocation] = []
    threads = [
        threading.Thread(target=lambda: answers.append(call(environments, query))) for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_the_environments_run_the_handler_lambda_runs() -> None:
    assert HANDLER == DEPLOYED_HANDLER


def test_the_first_invocation_starts_cold_and_the_next_finds_it_warm(
    two_environments: ExecutionEnvironments,
) -> None:
    first, second = call(two_environments), call(two_environments)

    assert (first.cold, second.cold) == (True, False)
    assert first.environment == second.environment
    assert body(first)["pid"] == body(second)["pid"]
    assert body(first)["init"] == body(second)["init"]  # one init, kept warm


def test_concurrent_invocations_run_at_once_in_environments_of_their_own(
    two_environments: ExecutionEnvironments,
) -> None:
    # When two slow invocations arrive together
    first, second = at_once(two_environments, 2, "?sleep=0.5")

    # Then each ran in its own process with its own init, and their runs overlapped
    assert {first.environment, second.environment} == {1, 2}
    assert body(first)["pid"] != body(second)["pid"]
    assert body(first)["init"] != body(second)["init"]
    assert body(first)["began"] < body(second)["ended"]
    assert body(second)["began"] < body(first)["ended"]


def test_no_more_environments_than_the_cap_and_one_invocation_each_at_a_time(
    two_environments: ExecutionEnvironments,
) -> None:
    answers = at_once(two_environments, 6, "?sleep=0.2")

    assert all(answer.result["statusCode"] == 200 for answer in answers)
    by_environment: dict[int, list[dict[str, Any]]] = {}
    for answer in answers:
        by_environment.setdefault(answer.environment, []).append(body(answer))
    assert set(by_environment) <= {1, 2}
    for runs in by_environment.values():
        runs.sort(key=lambda run: run["began"])
        for earlier, later in itertools.pairwise(runs):
            assert earlier["ended"] <= later["began"]  # never two at once in one environment


def test_a_crash_is_api_gateways_500_and_the_environment_is_replaced(
    two_environments: ExecutionEnvironments,
) -> None:
    before = call(two_environments)

    crashed = call(two_environments, "?crash")
    after = call(two_environments)

    assert crashed.result["statusCode"] == 500
    assert json.loads(crashed.result["body"]) == {"message": "Internal Server Error"}
    assert after.result["statusCode"] == 200
    assert after.cold
    assert body(after)["pid"] != body(before)["pid"]


def test_at_least_one_environment() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ExecutionEnvironments(0, PROBE)


def test_metrics_documents_stay_off_the_console_when_metrics_are_off_and_logs_stay_on(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given make run's setting (no CloudWatch to read the metrics)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    environments = ExecutionEnvironments(1, PROBE)
    try:
        call(environments, "?print")
    finally:
        environments.close()

    printed = capfd.readouterr().out
    assert '{"level": "INFO", "message": "kept"}' in printed
    assert "_aws" not in printed
