"""What each way of sending traces costs a cold start to import, side by side as ratios.

The candidates are not the project's dependencies, so they are measured in a scratch environment:

    python3 -m venv /tmp/tracing && /tmp/tracing/bin/pip install aws-xray-sdk==2.15.0 \
        opentelemetry-sdk==1.45.2 opentelemetry-exporter-otlp-proto-http==1.45.2
    python3 bench/tracing_candidates.py /tmp/tracing/bin/python [--runs 9]

Each case runs in a fresh interpreter, interleaved with the others; figures are medians, ratios to the
X-Ray SDK. docs/performance.md explains the choice these figures led to.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess

CASES = {
    "X-Ray SDK (aws_xray_sdk.core, with botocore)": "import aws_xray_sdk.core",
    "OpenTelemetry SDK + OTLP/HTTP exporter": (
        "import opentelemetry.sdk.trace, opentelemetry.sdk.trace.export, "
        "opentelemetry.exporter.otlp.proto.http.trace_exporter"
    ),
    "orders_api.xray's own imports (socket, json, traceback)": "import socket, json, traceback, contextvars",
}
TIMER = "import time; t = time.perf_counter()\n{code}\nprint((time.perf_counter() - t) * 1000)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("python", help="the interpreter of an environment with the candidates installed")
    parser.add_argument("--runs", type=int, default=9)
    options = parser.parse_args()
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(options.runs):
        for name, code in CASES.items():
            output = subprocess.run(
                [options.python, "-c", TIMER.format(code=code)], capture_output=True, text=True, check=True
            ).stdout
            samples[name].append(float(output))
    reference = statistics.median(samples[next(iter(CASES))])
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<58} {median:8.1f} ms {median / reference:6.2f}")


if __name__ == "__main__":
    main()
