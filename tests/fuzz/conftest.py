"""Fuzz settings: how many cases a fuzz run draws (``FUZZ_CASES``), and a line per run in the summary."""

from __future__ import annotations

import os

import pytest

# At least 20,000 requests per store API in CI; set lower for a quick local run.
FUZZ_CASES = int(os.environ.get("FUZZ_CASES", "20000"))
_RUNS: list[tuple[str, int]] = []


def record_cases(run: str, cases: int) -> None:
    """Note that ``run`` drew ``cases`` requests, for the summary at the end of the session."""
    _RUNS.append((run, cases))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _RUNS:
        return
    terminalreporter.section("fuzzing")
    for run, cases in _RUNS:
        terminalreporter.write_line(f"{run}: {cases:,} hostile requests, none answered 5xx or raised")
