"""What the embedded server emulates, printed from the code: ``python -m localdev.stargate.coverage``.

The Document API part comes from its route table (``document_api.responses.ROUTES``), the Data API
part from its command catalogue (``data_api.catalog``). ``--write`` rewrites ``COVERAGE.md`` beside
this file; a test fails when the committed file and the code disagree.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from localdev.stargate.data_api.catalog import COMMANDS, LEVELS, NOT_EMULATED, WHOLE_COMMAND, CommandSpec
from localdev.stargate.document_api.responses import ROUTES, DocumentApi

COVERAGE_FILE = Path(__file__).with_name("COVERAGE.md")
DATA_API_HEADING = "## Data API (`/api/json/v1`), command by command"

_INTRO = """\
# What the embedded server emulates

Printed from the code by `python -m localdev.stargate.coverage` (`--write` rewrites this file);
`tests/stargate_server/test_coverage.py` fails when this file and the code disagree. The contracts
behind it: [Document API](../../docs/stores/document-api.md), [Data API](../../docs/stores/data-api.md).
"""

_DOCUMENT_API = """\
## Document API v2 (`/v2`), route by route
Every route needs an `X-Cassandra-Token`. Besides these, the server answers `POST /v1/auth`,
`GET /health` and `GET /checker/liveness|readiness`; any other path is 404, another method 405.

"""

_DATA_API = f"""\
{DATA_API_HEADING}
Every Data API command, with its fields and options (`options.x`): emulated, accepted with no effect,
or refused (with the error code sent). The astrapy suite (`tests/astrapy_suite/`, the same tests also
run against a real Data API and Astra) checks this table on every command astrapy sends to this
server: the command and all it uses are listed here; a command that succeeded used only what is
listed as emulated; one that used something listed as refused was refused with that code. The same
commands are served at `/v1`, where a self-hosted Data API serves them.

DataStax's own astrapy 2.3.2 integration suite, unmodified, runs against this server with
`make astrapy-suite`: on 2026-12-07 every collection test passed but those of the features refused
below (lexical search, reranking, vectorize) and tables (collections 166 passed, 10 failed and 2
errors all out of scope, 58 skipped by the suite itself); the figures and reasons are in
[docs/local-astra.md](../../docs/local-astra.md#datastaxs-own-astrapy-suite).

"""

_DATA_API_END = (
    "Any other command is refused with `COMMAND_UNKNOWN`, any other field with `COMMAND_FIELD_UNKNOWN`."
)


def _ticks(names: Iterable[str]) -> str:
    return " ".join(f"`{name}`" for name in names)


def _with_notes(entries: Sequence[str], spec: CommandSpec) -> str:
    return " ".join(
        f"`{entry}`" + (f" ({spec.notes[entry]})" if entry in spec.notes else "") for entry in entries
    )


def _row(cells: Sequence[str]) -> str:
    return "|" + "".join(f" {cell} |" if cell else " |" for cell in cells)


def document_api_rows() -> list[str]:
    """One row per route and method: the method, the path, and what it answers (its docstring)."""
    rows = ["| method | path | answer |", "| --- | --- | --- |"]
    for pattern, handlers in ROUTES:
        for method, name in handlers.items():
            doc = (getattr(DocumentApi, name).__doc__ or "").strip().splitlines()[0]
            rows.append(_row([method, f"`{pattern}`", doc.replace("``", "`")]))
    return rows


def _command_row(spec: CommandSpec) -> list[str]:
    if spec.emulated:
        emulated = _with_notes(spec.emulated, spec)
    else:
        note = spec.notes.get(WHOLE_COMMAND)
        emulated = WHOLE_COMMAND + (f" ({note})" if note else "")
    refused = _ticks(spec.refused)
    if spec.refused_codes:
        refused += ": " + _ticks(tuple(code.name for code in spec.refused_codes))
    return [spec.level, _ticks(spec.names), emulated, _with_notes(spec.ignored, spec), refused]


def data_api_rows() -> list[str]:
    """One row per command (with its aliases), then the commands refused as unknown, level by level."""
    rows = [
        _row(["level", "command", "emulated", "accepted, no effect", "refused"]),
        "| --- | --- | --- | --- | --- |",
    ]
    for level in LEVELS:
        rows.extend(_row(_command_row(spec)) for spec in COMMANDS if spec.level == level)
        for unknown_level, what, names in NOT_EMULATED:
            if unknown_level == level:
                label = f"{what}: " if what else ""
                rows.append(
                    _row([level, label + _ticks(names), "", "", f"{WHOLE_COMMAND}: `COMMAND_UNKNOWN`"])
                )
    return rows


def render() -> str:
    """The whole of ``COVERAGE.md``."""
    parts = [
        _INTRO,
        _DOCUMENT_API + "\n".join(document_api_rows()) + "\n",
        _DATA_API + "\n".join(data_api_rows()) + "\n\n" + _DATA_API_END + "\n",
    ]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the coverage markdown, or rewrite ``COVERAGE.md`` with ``--write``."""
    parser = argparse.ArgumentParser(prog="python -m localdev.stargate.coverage", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"rewrite {COVERAGE_FILE.name}")
    args = parser.parse_args(argv)
    if args.write:
        COVERAGE_FILE.write_text(render())
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
