"""Settings shared by every test: no X-Ray daemon, no CloudWatch, no AWS credentials."""

from __future__ import annotations

import os

import pytest

from orders_api import names

os.environ.setdefault(names.POWERTOOLS_TRACE_DISABLED, "true")
os.environ.setdefault(names.POWERTOOLS_METRICS_NAMESPACE, "OrdersApiTest")
os.environ.setdefault(names.POWERTOOLS_SERVICE_NAME, names.SERVICE_NAME)
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
# The function asset's byte code: only a python3.14 on the PATH, never a download or a container pull in
# the middle of a test (tests/infra/test_function_asset.py tries uv and Docker with stand-ins).
os.environ.setdefault("BYTE_CODE_FROM", "path")
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
# Listing orders seals cursors with this key (deployed: a generated Secrets Manager secret).
os.environ.setdefault(names.CURSOR_KEY, "test-cursor-key-0123456789abcdef0123456789")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skipped tests by reason, one line per reason (a missing backend skips dozens alike), and how many
    hostile requests each fuzz run sent (tests/fuzz, tests/e2e/test_fuzz_http.py)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr).removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("skipped, by reason")
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{count:4d} {reason}")

    from tests.fuzz.budget import RUNS

    if RUNS:
        terminalreporter.section("fuzzing")
        for run, cases in RUNS:
            terminalreporter.write_line(f"{run}: {cases:,} hostile requests, none answered 5xx or raised")
