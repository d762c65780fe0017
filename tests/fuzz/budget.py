"""Fuzz settings: how many cases a fuzz run draws (``FUZZ_CASES``), and what each run drew, for the line
``tests/conftest.py`` prints per run at the end of the session."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# At least 20,000 requests per store API in CI; set lower for a quick local run.
FUZZ_CASES = int(os.environ.get("FUZZ_CASES", "20000"))
# One fixed seed: every machine, whatever folder the clone is in, draws the same requests (Hypothesis'
# derandomize derives its seed from the test, which differed between two clones).
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261207"))
RUNS: list[tuple[str, int]] = []


def fuzz_settings(cases: int) -> settings:
    """Hypothesis settings of a fuzz run: ``cases`` draws, no deadline, no example database (the draws
    come from ``FUZZ_SEED`` alone), no health check (the strategies are large on purpose)."""
    return settings(max_examples=cases, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def record_cases(run: str, cases: int) -> None:
    """Note that ``run`` drew ``cases`` requests, for the summary at the end of the session."""
    RUNS.append((run, cases))
