"""One measurement in a fresh interpreter, for ``bench/run.py``: a cold start, or a warm loop.

    python bench/probe.py cold project|textbook|floor|nothing|project-import
    python bench/probe.py warm project|textbook --calls 300 --blocks 15

``cold``: import the handler and answer the first ``GET /orders/<id>`` (the Lambda init phase plus the
first invoke, store connection and secret read included); for ``floor`` (``bench/floor.py``), only the
import of the libraries both handlers are built on; for ``project-import``, only the import of the
project's handler; for ``nothing``, none (the interpreter's and this probe's own start-up, which
``bench/instructions.py`` subtracts). ``warm``: after a warm-up, blocks of calls
of the handler (a new trace header for each, as in Lambda) interleaved with blocks of the same store
request sent with a bare ``requests.Session`` as it comes, and with one that skips requests'
per-request environment look-ups (the cheapest GET requests makes), each as the median time per
call. The event comes in ``BENCH_EVENT``; the last line printed is ``BENCH {json}``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

STARTED = time.perf_counter()
STARTED_CPU = time.process_time()


class Context:
    function_name = "orders-bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders-bench"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name = "/aws/lambda/orders-bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 28_000


def load(which: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    if which == "project":
        from orders_api.handler import lambda_handler
    else:
        sys.path.insert(0, os.path.dirname(__file__))
        from textbook import lambda_handler  # type: ignore[no-redef]
    return lambda_handler


def raw_request(cheapest: bool) -> Callable[[], int]:
    """The store request the handlers make, sent with a bare ``requests.Session``: as it comes, or
    (``cheapest``) without the environment look-ups requests makes on every request by default."""
    import requests

    session = requests.Session()
    session.trust_env = not cheapest
    base = os.environ["STORE_URL"].rstrip("/")
    namespace, collection = os.environ["STORE_NAMESPACE"], os.environ["STORE_COLLECTION"]
    order_id = os.environ["BENCH_ORDER_ID"]
    token = os.environ["BENCH_STORE_TOKEN"]
    if os.environ["ORDERS_STORE_API"] == "data":
        url = f"{base}/v1/{namespace}/{collection}"
        body = {"findOne": {"filter": {"_id": order_id}}}
        return lambda: len(session.post(url, json=body, headers={"Token": token}, timeout=5).content)
    url = f"{base}/v2/namespaces/{namespace}/collections/{collection}/{order_id}"
    return lambda: len(
        session.get(url, params={"raw": "true"}, headers={"X-Cassandra-Token": token}, timeout=5).content
    )


def per_call_us(call: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    mode, which = sys.argv[1], sys.argv[2]
    calls = int(sys.argv[sys.argv.index("--calls") + 1]) if "--calls" in sys.argv else 300
    blocks = int(sys.argv[sys.argv.index("--blocks") + 1]) if "--blocks" in sys.argv else 15
    if which in ("floor", "nothing", "project-import"):
        if which == "floor":
            sys.path.insert(0, os.path.dirname(__file__))
            import floor  # noqa: F401 - importing it is the measurement
        elif which == "project-import":
            load("project")

        report(
            {
                "cold_ms": (time.perf_counter() - STARTED) * 1000,
                "cold_cpu_ms": (time.process_time() - STARTED_CPU) * 1000,
            }
        )
        return
    event = json.loads(os.environ["BENCH_EVENT"])
    handler = load(which)
    context = Context()
    answer = handler(event, context)
    cold_ms = (time.perf_counter() - STARTED) * 1000
    cold_cpu_ms = (time.process_time() - STARTED_CPU) * 1000
    if answer.get("statusCode") != 200:
        raise SystemExit(f"{which} answered {answer.get('statusCode')}: {answer.get('body')}")
    result: dict[str, float] = {"cold_ms": cold_ms, "cold_cpu_ms": cold_cpu_ms}
    if mode == "warm":
        raw = raw_request(cheapest=False)
        cheapest = raw_request(cheapest=True)

        # Each invocation has its own trace header in Lambda (the runtime sets it before each one).
        headers = [f"Root=1-67a1b2c3-{n:024x};Parent=53995c3f42cd8ad8;Sampled=1" for n in range(997)]
        turn = iter(range(10**9))

        def invoke() -> None:
            os.environ["_X_AMZN_TRACE_ID"] = headers[next(turn) % len(headers)]
            handler(event, context)

        for _ in range(calls):  # warm-up: connections open, caches filled, code paths hot
            invoke()
            raw()
            cheapest()
        handler_samples, raw_samples, cheapest_samples = [], [], []
        for _ in range(blocks):
            handler_samples.append(per_call_us(invoke, calls))
            raw_samples.append(per_call_us(raw, calls))
            cheapest_samples.append(per_call_us(cheapest, calls))
        result["handler_us"] = statistics.median(handler_samples)
        result["raw_us"] = statistics.median(raw_samples)
        result["cheapest_us"] = statistics.median(cheapest_samples)
    report(result)


def report(result: dict[str, float]) -> None:
    """The last line of the output, for ``bench/run.py``; then the process ends at once, as a Lambda
    environment does: the interpreter's clean-up of every module is no part of a cold start, and
    would be counted by ``bench/instructions.py``."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, ("\nBENCH " + json.dumps(result) + "\n").encode())
    os._exit(0)


if __name__ == "__main__":
    main()
