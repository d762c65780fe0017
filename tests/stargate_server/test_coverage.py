"""The committed coverage table (``localdev/stargate/COVERAGE.md``) is the one the code prints.

Given the Document API's route table and the Data API's command catalogue, when the coverage module
prints the table, then it is exactly the committed file; after a change to either, run
``python -m localdev.stargate.coverage --write`` and commit the result.
"""

from __future__ import annotations

from localdev.stargate.coverage import COVERAGE_FILE, render


def test_the_committed_coverage_table_is_the_one_the_code_prints() -> None:
    assert COVERAGE_FILE.read_text() == render(), (
        f"{COVERAGE_FILE} is stale: run `python -m localdev.stargate.coverage --write` and commit it"
    )
