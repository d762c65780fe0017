"""The end-of-run line of the suites that run the same tests against several backends.

A suite's conftest calls ``register(config, {"fixture_name": "title"})`` from ``pytest_configure``,
naming its session fixture whose parameters are backends. The run then ends with one line per suite
that ran, e.g. ``astrapy suite backends: ran embedded; skipped compose (no Docker engine: ...)``.

``CONTRACT_REQUIRE_BACKENDS=container,compose`` (comma-separated names) fails the run when a listed
backend did not run in a suite that offers it (the Document API suite offers ``container``; the Data
API contract suite and the astrapy suite offer ``compose``), or in none at all: in CI a skip would hide
that the real server was never tested. ``CONTRACT_SKIP_BACKENDS=container,compose`` leaves backends out
(``skipped_by_choice()``; each suite's backend fixture skips them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field

import pytest

PLUGIN_NAME = "backend-report"


def register(config: pytest.Config, fixtures: Mapping[str, str]) -> None:
    """Report on the backends of the tests that use these fixtures (name -> title in the line)."""
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if plugin is None:
        plugin = BackendReport()
        config.pluginmanager.register(plugin, PLUGIN_NAME)
    plugin.fixtures.update(fixtures)


def run_details(config: pytest.Config) -> dict[str, str]:
    """Extra words shown after a backend's name in the end-of-run line (e.g. the image it ran)."""
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    return plugin.details if plugin is not None else {}


def skipped_by_choice() -> set[str]:
    """Backends named in ``CONTRACT_SKIP_BACKENDS``."""
    return set(_names("CONTRACT_SKIP_BACKENDS"))


def required() -> list[str]:
    """Backends named in ``CONTRACT_REQUIRE_BACKENDS``, in its order."""
    return list(dict.fromkeys(_names("CONTRACT_REQUIRE_BACKENDS")))


def _names(variable: str) -> list[str]:
    return [name.strip() for name in os.environ.get(variable, "").split(",") if name.strip()]


@dataclass
class _Outcome:
    ran: bool = False
    skip_reason: str | None = None
    error: str | None = None


@dataclass(eq=False)  # a plugin must be hashable
class BackendReport:
    """The plugin: records each backend-parametrized test's outcome, then writes the lines."""

    fixtures: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, dict[str, _Outcome]] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        for fixture_name in self.fixtures:
            if fixture_name not in params:
                continue
            outcome = self.outcomes.setdefault(fixture_name, {}).setdefault(
                str(params[fixture_name]), _Outcome()
            )
            if report.when == "call":
                outcome.ran = True
            elif report.skipped and outcome.skip_reason is None:
                outcome.skip_reason = _skip_reason(report)
            elif report.when == "setup" and report.failed and outcome.error is None:
                outcome.error = _first_line(call.excinfo.exconly() if call.excinfo else "error in setup")
        return report

    def missing_required(self) -> list[str]:
        """Required backends that did not run: in no suite at all, or in a suite that offers them."""
        ran_anywhere = {name for per in self.outcomes.values() for name, o in per.items() if o.ran}
        missing = []
        for name in required():
            if name not in ran_anywhere:
                missing.append(name)
                continue
            missing.extend(
                f"{name} ({self.fixtures[fixture_name]})"
                for fixture_name, per in self.outcomes.items()
                if name in per and not per[name].ran
            )
        return missing

    def summary_lines(self) -> list[str]:
        """One line per suite that ran: which backends ran, errored, were skipped and why."""
        lines = []
        for fixture_name, title in self.fixtures.items():
            outcomes = self.outcomes.get(fixture_name)
            if not outcomes:
                continue
            details = self.details if fixture_name == "backend" else {}
            ran = [f"{n} ({details[n]})" if n in details else n for n, o in outcomes.items() if o.ran]
            errored = [f"{name} ({o.error})" for name, o in outcomes.items() if not o.ran and o.error]
            skipped = [
                f"{name} ({o.skip_reason})"
                for name, o in outcomes.items()
                if not o.ran and not o.error and o.skip_reason
            ]
            parts = [f"ran {', '.join(ran) or 'none'}"]
            if errored:
                parts.append(f"errored {', '.join(errored)}")
            if skipped:
                parts.append(f"skipped {', '.join(skipped)}")
            lines.append(f"{title}: {'; '.join(parts)}")
        return lines

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.outcomes and exitstatus == pytest.ExitCode.OK and self.missing_required():
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, config: pytest.Config
    ) -> Generator[None, None, None]:
        # Outermost (tryfirst) and after the yield: below pytest's short test summary, above the totals.
        yield
        for line in self.summary_lines():
            terminalreporter.write_line(line)
        missing = self.missing_required() if self.outcomes else []
        if missing:
            terminalreporter.write_line(
                f"contract backends required by CONTRACT_REQUIRE_BACKENDS did not run: {', '.join(missing)}",
                red=True,
            )


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    text = text.removeprefix("Skipped: ")
    # "container backend: no Docker engine: ..." reads "skipped container (no Docker engine: ...)".
    return re.sub(r"^[\w ]*backend: ", "", _first_line(text))


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
