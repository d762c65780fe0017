"""``make run`` under concurrent callers, as deployed: several execution environments at once (one for the
Document API store, as the stack deploys it), every client answered, one console line per request."""

from __future__ import annotations

import concurrent.futures
import os
import re
import time

import pytest
import requests

from .conftest import RunningApi

pytestmark = pytest.mark.e2e

CLIENTS = 200
ACCESS_LINE = re.compile(r"^POST /orders 201 \d+ ms env (?P<env>\d+) (?P<start>cold|warm) caller local$")


def test_two_hundred_clients_at_once_are_all_answered_and_each_gets_a_console_line(api: RunningApi) -> None:
    # Given make run with its default execution environments, and 200 clients released together
    def create(index: int) -> int | str:
        try:
            answer = requests.post(
                f"{api.url}/orders",
                json={"productName": f"Burst {index}", "productQuantity": 1, "productPrice": 100},
                timeout=60,
            )
            return answer.status_code
        except requests.ConnectionError as error:
            return type(error).__name__

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(create, range(CLIENTS)))

    # Then every one was created: no connection reset, no refusal
    assert outcomes == [201] * CLIENTS
    # And the console has one line per request, saying where it ran, never more environments than
    # allowed (one for the Document API store), each started cold once
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(_burst_lines(api)) < CLIENTS:
        time.sleep(0.1)
    lines = _burst_lines(api)
    assert len(lines) == CLIENTS
    environments = {match["env"] for match in lines}
    documents = api.extra_env.get("ORDERS_STORE_API") == "documents"
    assert len(environments) == 1 if documents else 1 <= len(environments) <= (os.cpu_count() or 1)
    cold = [match["env"] for match in lines if match["start"] == "cold"]
    assert len(cold) == len(set(cold))  # an environment starts once, then stays warm


def _burst_lines(api: RunningApi) -> list[re.Match[str]]:
    return [match for line in api.output.splitlines() if (match := ACCESS_LINE.match(line))]
