"""Progress lines for ``make astrapy-suite`` (``scripts/astrapy_suite.py``), from inside astrapy's pytest run.

The script loads this with ``-p astrapy_suite_progress`` (this folder alone on ``PYTHONPATH``). It only
watches test reports: each time a new test file starts, and at least every ``EVERY_SECONDS`` within one,
it writes a line starting with ``PREFIX`` (elapsed time, tests done of the total, the counts so far, the
file now running). The script passes those lines on to stderr; the rest of pytest's output goes to its
log file. It changes no test.
"""

from __future__ import annotations

import time

import pytest

PREFIX = "astrapy-suite progress:"
EVERY_SECONDS = 30.0
OUTCOMES = ("passed", "failed", "errors", "skipped")
# The worse outcome wins when a test has several reports (setup, call, teardown).
RANK = {"passed": 0, "skipped": 1, "errors": 2, "failed": 3}


class Progress:
    """Counts each test once, at its teardown report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.monotonic()
        self.last_line = self.started
        self.total = 0
        self.done = 0
        self.file = ""
        self.outcomes: dict[str, str] = {}
        self.counts = dict.fromkeys(OUTCOMES, 0)

    def write(self, text: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        line = f"{PREFIX} {elapsed // 60}m{elapsed % 60:02d}s {text}"
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            print(line, flush=True)
        else:
            reporter.write_line(line)
            reporter.flush()
        self.last_line = time.monotonic()

    def so_far(self) -> str:
        counts = ", ".join(f"{count} {outcome}" for outcome, count in self.counts.items())
        return f"{self.done}/{self.total} tests ({counts})"

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        self.write(f"{self.total} tests collected")

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        file = nodeid.split("::", 1)[0]
        if file != self.file:
            self.file = file
            self.write(f"{self.so_far()}; now {file.removeprefix('tests/base/integration/')}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            outcome = "failed" if report.when == "call" else "errors"
        elif report.skipped:
            outcome = "skipped"
        else:
            outcome = "passed"
        earlier = self.outcomes.get(report.nodeid, "passed")
        self.outcomes[report.nodeid] = max(earlier, outcome, key=RANK.__getitem__)
        if report.when != "teardown":
            return
        self.counts[self.outcomes.pop(report.nodeid)] += 1
        self.done += 1
        if time.monotonic() - self.last_line >= EVERY_SECONDS:
            self.write(f"{self.so_far()}; in {self.file.removeprefix('tests/base/integration/')}")

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.write(f"{self.so_far()}; pytest finished with status {exitstatus}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Progress(config), "astrapy-suite-progress")
