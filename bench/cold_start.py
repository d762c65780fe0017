"""Cold-start cost of the function, measured side by side in one run as ratios.

Each case runs in a fresh interpreter (as a new Lambda execution environment would), several times,
interleaved so that machine noise hits every case alike. Figures are medians; the ratio column compares
each case with importing the handler as deployed by default (in Lambda, tracing on), which is what
every cold start pays.

    .venv/bin/python bench/cold_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

TIMER = "import time; t = time.perf_counter()\n{code}\nprint((time.perf_counter() - t) * 1000)"
FIRST_REQUEST = """
from orders_api.handler import lambda_handler
from localdev.api import LocalContext, http_api_event
lambda_handler(http_api_event("GET", "/openapi.json", {"host": "bench"}), LocalContext())
"""
IN_LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "bench"}
TRACING_OFF = {**IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}
# name: (code, extra environment)
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "import orders_api.handler, tracing on (the default)": ("import orders_api.handler", IN_LAMBDA),
    "import orders_api.handler, tracing off (-c tracing=false)": ("import orders_api.handler", TRACING_OFF),
    "tracing on + first request (GET /openapi.json)": (FIRST_REQUEST, IN_LAMBDA),
    "import boto3 (deferred to the first store call)": ("import boto3", {}),
    "import aws_xray_sdk.core (loaded by Tracer when on)": ("import aws_xray_sdk.core", {}),
    "import requests": ("import requests", {}),
    "import aws_lambda_powertools.event_handler": ("import aws_lambda_powertools.event_handler", {}),
}


def measure(code: str, extra_env: dict[str, str]) -> float:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA", "POWERTOOLS_TRACE"))}
    env = {
        **inherited,
        "PYTHONPATH": f"{REPO / 'lambda_src'}{os.pathsep}{REPO}",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # Tracing on outside Lambda: no X-Ray daemon to send to, and none is needed to load the SDK.
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        **extra_env,
    }
    output = subprocess.run(
        [sys.executable, "-c", TIMER.format(code=code)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=REPO,
    ).stdout
    return float(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, (code, extra_env) in CASES.items():
            samples[name].append(measure(code, extra_env))
    reference = statistics.median(samples[next(iter(CASES))])
    print(f"{'case':<60} {'median ms':>10} {'ratio':>7}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<60} {median:>10.1f} {median / reference:>7.2f}")
    print(f"\n{runs} runs each, interleaved; Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
