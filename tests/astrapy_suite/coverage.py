"""The embedded server's coverage table (``localdev/stargate/COVERAGE.md``), and what astrapy really sends.

The table has one row per Data API command: the fields and options the server emulates, those it
accepts without effect, and those it refuses (with the error code), or "the command" when it refuses
the whole command. ``CommandRecorder`` is an astrapy event observer that keeps every command astrapy
sends during a test with the error codes of its answer; ``coverage_problems`` holds them against the
table:

- every command, field and option sent is listed;
- a command that succeeded used only what is listed as emulated (the suite relies on nothing else);
- a command that used something listed as refused was refused, with a code the table gives for it.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from astrapy.event_observers import ObservableEvent, ObservableRequest, ObservableResponse, Observer

from localdev.stargate.coverage import COVERAGE_FILE, DATA_API_HEADING
from localdev.stargate.data_api.catalog import WHOLE_COMMAND
from localdev.stargate.data_api.exceptions import ErrorCode

TABLE_HEADING = DATA_API_HEADING
_CURRENT_NAME = {code.legacy_name: code.name for code in ErrorCode if code.legacy_name}


@dataclass(frozen=True)
class CommandCoverage:
    """One row of the table."""

    level: str
    emulated: frozenset[str]  # fields and options ("filter", "options.limit")
    ignored: frozenset[str]
    refused: frozenset[str]
    refused_codes: frozenset[str]
    whole_command_refused: bool


@cache
def coverage_table() -> dict[str, CommandCoverage]:
    """The table, command name -> its row (a row may name several commands)."""
    text = COVERAGE_FILE.read_text()
    assert TABLE_HEADING in text, f"{COVERAGE_FILE} lost its coverage table ({TABLE_HEADING!r})"
    lines = text[text.index(TABLE_HEADING) :].splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith("|"))
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[first:]))
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header == ["level", "command", "emulated", "accepted, no effect", "refused"], header
    table: dict[str, CommandCoverage] = {}
    for row in rows[2:]:
        level, commands, emulated, ignored, refused = (cell.strip() for cell in row.strip("|").split("|"))
        refused_names = _names(refused)
        coverage = CommandCoverage(
            level=level,
            emulated=frozenset(_names(emulated)),
            ignored=frozenset(_names(ignored)),
            refused=frozenset(name for name in refused_names if not _is_code(name)),
            refused_codes=frozenset(name for name in refused_names if _is_code(name)),
            whole_command_refused=refused.startswith(WHOLE_COMMAND),
        )
        for command in _names(commands):
            assert command not in table, f"{command} has two rows in the coverage table"
            table[command] = coverage
    return table


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _is_code(name: str) -> bool:
    return re.fullmatch(r"[A-Z][A-Z_]+", name) is not None


@dataclass
class Exchange:
    """One command astrapy sent, and the error codes of the answer (None until it arrives)."""

    command: str
    payload: dict[str, Any]
    error_codes: list[str] | None = None

    def entries(self) -> list[str]:
        """The fields and options it used: ``filter``, ``options.limit``, ..."""
        used = []
        for name, value in self.payload.items():
            if name == "options" and isinstance(value, dict):
                used.extend(f"options.{option}" for option in value)
            else:
                used.append(name)
        return used


@dataclass
class CommandRecorder(Observer):
    """An astrapy observer keeping the Data API commands sent while it is started."""

    enabled: bool = False
    _exchanges: dict[str, Exchange] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        with self._lock:
            self._exchanges = {}
            self.enabled = True

    def stop(self) -> list[Exchange]:
        with self._lock:
            self.enabled = False
            return list(self._exchanges.values())

    def receive(
        self,
        event: ObservableEvent,
        sender: Any = None,
        function_name: str | None = None,
        request_id: str | None = None,
    ) -> None:
        key = request_id or ""
        with self._lock:
            if not self.enabled:
                return
            if isinstance(event, ObservableRequest) and not event.dev_ops_api and event.payload:
                ((command, payload),) = json.loads(event.payload).items()
                self._exchanges[key] = Exchange(command, payload or {})
            elif isinstance(event, ObservableResponse) and key in self._exchanges:
                try:
                    body = json.loads(event.body or "{}")
                except ValueError:
                    body = {}
                codes = [str(error.get("errorCode")) for error in body.get("errors", [])]
                if event.status_code >= 400 and not codes:
                    codes = [f"HTTP {event.status_code}"]
                self._exchanges[key].error_codes = codes


def coverage_problems(exchanges: list[Exchange]) -> list[str]:
    """What in these exchanges the coverage table does not allow (see the module docstring)."""
    table = coverage_table()
    problems = []
    for exchange in exchanges:
        row = table.get(exchange.command)
        if row is None:
            problems.append(f"{exchange.command}: not in the coverage table")
            continue
        listed = row.emulated | row.ignored | row.refused
        entries = exchange.entries()
        problems.extend(
            f"{exchange.command}.{entry}: not in the coverage table"
            for entry in entries
            if entry not in listed and not row.whole_command_refused
        )
        codes = {_CURRENT_NAME.get(code, code) for code in exchange.error_codes or []}
        refused = [entry for entry in entries if entry in row.refused]
        if row.whole_command_refused or refused:
            what = exchange.command + "".join(f" {entry}" for entry in refused)
            if not codes & row.refused_codes:
                problems.append(f"{what}: listed as refused, but the answer's errors were {sorted(codes)}")
        elif not codes:
            problems.extend(
                f"{exchange.command}.{entry}: succeeded, but is listed as having no effect"
                for entry in entries
                if entry in row.ignored
            )
    return list(dict.fromkeys(problems))  # once each, however often it was sent
