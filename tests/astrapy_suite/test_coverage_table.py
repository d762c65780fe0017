"""The coverage table in ``localdev/stargate/COVERAGE.md`` agrees with the server, and its check works.

The server names what it knows in its refusals: ``COMMAND_UNKNOWN`` lists a level's commands and
``COMMAND_FIELD_UNKNOWN`` a command's fields (or options), so every command, field and option the
server accepts must be in the table, and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.stargate import RunningServer, start_in_thread

from .coverage import CommandCoverage, Exchange, coverage_problems, coverage_table

TOKEN = "coverage-token"
LEVEL_PATHS = {"database": "", "keyspace": "/ks", "collection": "/ks/things"}
SERVER_LEVEL_NAMES = {"database": "general"}  # what the server's messages call the database level
# The least each command needs before the server looks at its options.
MINIMAL: dict[str, dict[str, Any]] = {
    "createKeyspace": {"name": "ks2"},
    "createNamespace": {"name": "ks2"},
    "createCollection": {"name": "other"},
    "insertMany": {"documents": [{}]},
    "updateOne": {"update": {"$set": {"a": 1}}},
    "updateMany": {"update": {"$set": {"a": 1}}},
    "findOneAndUpdate": {"update": {"$set": {"a": 1}}},
    "findOneAndReplace": {"replacement": {}},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_in_thread(port=0, data_dir=Path(tmp_path_factory.mktemp("coverage")), token=TOKEN)
    run(running, "", "createKeyspace", {"name": "ks"})
    run(running, "/ks", "createCollection", {"name": "things"})
    yield running
    running.stop()


def run(server: RunningServer, path: str, command: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        f"{server.url}/api/json/v1{path}", json={command: payload}, headers={"Token": TOKEN}, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refusal(body: dict[str, Any]) -> tuple[str, str]:
    ((error,),) = (body.get("errors", [None]),)
    assert error is not None, body
    return error["errorCode"], error["message"]


def listed(message: str, before: str) -> set[str]:
    """The comma-separated names after ``before`` in one of the server's messages."""
    match = re.search(re.escape(before) + r" ([\w, ]+)\.", message)
    assert match, message
    return {name.strip() for name in match.group(1).split(",") if name.strip() != "none"}


def rows_at(level: str) -> dict[str, CommandCoverage]:
    return {command: row for command, row in coverage_table().items() if row.level == level}


@pytest.mark.parametrize("level", LEVEL_PATHS)
def test_the_table_lists_exactly_the_commands_the_server_runs(server: RunningServer, level: str) -> None:
    code, message = refusal(run(server, LEVEL_PATHS[level], "noSuchCommand", {}))

    assert code == "COMMAND_UNKNOWN"
    emulated = {command for command, row in rows_at(level).items() if not row.whole_command_refused}
    level_name = SERVER_LEVEL_NAMES.get(level, level)
    assert listed(message, f"supports the following {level_name} commands:") == emulated
    for command, row in rows_at(level).items():
        if row.whole_command_refused:
            assert refusal(run(server, LEVEL_PATHS[level], command, {}))[0] in row.refused_codes, command


@pytest.mark.parametrize(
    "command", [command for command, row in coverage_table().items() if not row.whole_command_refused]
)
def test_the_table_lists_exactly_the_fields_and_options_the_server_knows(
    server: RunningServer, command: str
) -> None:
    row = coverage_table()[command]
    path = LEVEL_PATHS[row.level]
    entries = row.emulated | row.ignored | row.refused
    options = {entry.removeprefix("options.") for entry in entries if entry.startswith("options.")}
    fields = {entry for entry in entries if not entry.startswith("options.")} | (
        {"options"} if options else set()
    )

    code, message = refusal(run(server, path, command, {**MINIMAL.get(command, {}), "noSuchField": 1}))
    assert code == "COMMAND_FIELD_UNKNOWN"
    assert listed(message, "known fields are") == fields
    if options:
        payload = {**MINIMAL.get(command, {}), "options": {"noSuchOption": 1}}
        code, message = refusal(run(server, path, command, payload))
        assert code == "COMMAND_FIELD_UNKNOWN"
        assert listed(message, "known fields are") == options


def test_every_refused_option_is_refused_with_its_code(server: RunningServer) -> None:
    for command, row in coverage_table().items():
        for entry in row.refused:
            option = entry.removeprefix("options.")
            payload = {**MINIMAL.get(command, {}), "options": {option: {}}}
            assert refusal(run(server, LEVEL_PATHS[row.level], command, payload))[0] in row.refused_codes


def test_the_check_finds_what_the_table_does_not_allow() -> None:
    exchanges = [
        Exchange("find", {"filter": {}, "options": {"limit": 3}}, []),  # fine
        # relied on something inert
        Exchange("findEmbeddingProviders", {"options": {"filterModelStatus": "SUPPORTED"}}, []),
        Exchange("find", {"hint": {}}, ["COMMAND_FIELD_UNKNOWN"]),  # not in the table
        Exchange("explain", {}, ["COMMAND_UNKNOWN"]),  # not in the table
        Exchange("createCollection", {"name": "v", "options": {"lexical": {}}}, []),  # refused, yet OK?
        Exchange(
            "createCollection", {"name": "v", "options": {"lexical": {}}}, ["LEXICAL_FEATURE_NOT_ENABLED"]
        ),
        Exchange("findAndRerank", {"sort": {}}, ["COMMAND_UNKNOWN"]),  # refused as listed
        Exchange("findAndRerank", {"sort": {}}, ["SERVER_UNHANDLED_ERROR"]),  # refused, but not so
    ]

    assert coverage_problems(exchanges) == [
        "findEmbeddingProviders.options.filterModelStatus: succeeded, but is listed as having no effect",
        "find.hint: not in the coverage table",
        "explain: not in the coverage table",
        "createCollection options.lexical: listed as refused, but the answer's errors were []",
        "findAndRerank: listed as refused, but the answer's errors were ['SERVER_UNHANDLED_ERROR']",
    ]
