"""scripts/astrapy_suite.py (``make astrapy-suite``): how it reads pytest's JUnit XML, counts per area and
per test file, and holds failures against its OUT_OF_SCOPE table. On a small JUnit file written here; nothing
is downloaded, installed or started."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.infra.synthesis import REPO_ROOT

pytestmark = pytest.mark.infra

INTEGRATION = "tests/base/integration"


@pytest.fixture(scope="module")
def suite() -> ModuleType:
    # The script imports scripts/tools.py as `tools`, as it does when run as `python scripts/astrapy_suite.py`
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(REPO_ROOT / "scripts"))
        spec = importlib.util.spec_from_file_location(
            "astrapy_suite", REPO_ROOT / "scripts" / "astrapy_suite.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["astrapy_suite"] = module
        spec.loader.exec_module(module)
    return module


def case(file: str, classname: str, name: str, outcome: str = "", message: str = "", kind: str = "") -> str:
    """One ``testcase`` as pytest writes it with ``junit_family=xunit1``."""
    path = f"{INTEGRATION}/{file}"
    module = path.removesuffix(".py").replace("/", ".")
    child = ""
    if outcome:
        kind_attribute = f' type="{kind}"' if kind else ""
        child = f'<{outcome} message="{message}"{kind_attribute}>details\nmore details</{outcome}>'
    return (
        f'<testcase classname="{module}{"." + classname if classname else ""}" name="{name}" '
        f'file="{path}" line="1" time="0.1">{child}</testcase>'
    )


CASES = [
    # collections: dml in sync and async files, one uncovered failure
    case("collections/test_collection_dml_sync.py", "TestCollectionDMLSync", "test_insert_one_sync"),
    case("collections/test_collection_dml_async.py", "TestCollectionDMLAsync", "test_insert_one_async"),
    case(
        "collections/test_collection_dml_async.py",
        "TestCollectionDMLAsync",
        "test_collection_insert_many_vectors_async",
        "failure",
        "KeyError: &apos;$vector&apos;&#10;second line",
    ),
    # a test that fails, then errors in its teardown: pytest writes it twice; counted once, as failed
    case(
        "collections/test_collection_cursor_sync.py", "TestCursorSync", "test_twice_sync", "failure", "boom"
    ),
    case(
        "collections/test_collection_cursor_sync.py",
        "TestCursorSync",
        "test_twice_sync",
        "error",
        "failed on teardown with &quot;x&quot;",
    ),
    # covered: findAndRerank, a lexical test inside ddl, $vectorize
    case("collections/test_collection_farr_sync.py", "TestFarrSync", "test_farr_sync", "failure", "no farr"),
    case(
        "collections/test_collection_ddl_sync.py",
        "TestCollectionDDLSync",
        "test_collection_lexical_detailedconfig_sync",
        "error",
        "failed on setup with &quot;lexical&quot;",
    ),
    case(
        "collections/test_collection_vectorize_methods_async.py",
        "TestVectorizeAsync",
        "test_collection_methods_vectorize_async",
        "failure",
        "no vectorize",
    ),
    case("collections/test_collection_typing.py", "", "test_collection_typing_sync"),
    case(
        "collections/test_collection_ddl_sync.py",
        "TestCollectionDDLSync",
        "test_get_database_info_sync",
        "skipped",
        "Not supported outside of Astra DB",
        "pytest.skip",
    ),
    # misc: the DevOps API, skipped and failing (covered)
    case(
        "misc/test_admin_ops_sync.py",
        "TestAdminSync",
        "test_regions_sync",
        "skipped",
        "Not supported outside of Astra DB",
        "pytest.skip",
    ),
    case("misc/test_admin_ops_async.py", "TestAdminAsync", "test_regions_async", "failure", "devops"),
    # tables: all covered, one passes (informational)
    case("tables/test_table_dml_sync.py", "TestTableDMLSync", "test_insert_sync", "error", "no tables"),
    case("tables/test_table_dml_async.py", "TestTableDMLAsync", "test_find_async"),
    case(
        "tables/test_table_cursor_sync.py",
        "TestTableCursorSync",
        "test_xfail_sync",
        "skipped",
        "known",
        "pytest.xfail",
    ),
]


def junit(tmp_path: Path, cases: list[str]) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest">'
        + "".join(cases)
        + "</testsuite></testsuites>"
    )
    return path


def test_each_test_is_counted_once_per_area_and_per_file_sync_and_async_together(
    suite: ModuleType, tmp_path: Path
) -> None:
    results = suite.read_junit(junit(tmp_path, CASES))

    table = suite.tally(results)

    counts = {
        area: {group: dict(outcomes) for group, outcomes in groups.items()} for area, groups in table.items()
    }
    assert counts == {
        "collections": {
            "cursor": {"failed": 1},
            "ddl": {"errors": 1, "skipped": 1},
            "dml": {"passed": 2, "failed": 1},
            "farr": {"failed": 1},
            "typing": {"passed": 1},
            "vectorize_methods": {"failed": 1},
        },
        "misc": {"admin_ops": {"skipped": 1, "failed": 1}},
        "tables": {"cursor": {"skipped": 1}, "dml": {"errors": 1, "passed": 1}},
    }
    twice = [r for r in results if r.test_id.endswith("test_twice_sync")]
    assert [(r.test_id, r.outcome, r.message) for r in twice] == [
        (
            f"{INTEGRATION}/collections/test_collection_cursor_sync.py::TestCursorSync::test_twice_sync",
            "failed",
            "boom",
        )
    ]


def test_failures_outside_out_of_scope_make_the_run_fail_and_are_named(
    suite: ModuleType, tmp_path: Path
) -> None:
    results = suite.read_junit(junit(tmp_path, CASES))

    missing = suite.uncovered(results)

    assert [(r.test_id.split("::")[-1], r.outcome, r.message) for r in missing] == [
        ("test_collection_insert_many_vectors_async", "failed", "KeyError: '$vector'"),
        ("test_twice_sync", "failed", "boom"),
    ]
    assert suite.exit_status(results, 1) == 1


def test_a_run_whose_every_failure_is_out_of_scope_passes(suite: ModuleType, tmp_path: Path) -> None:
    in_scope_failures = ("test_collection_insert_many_vectors_async", "test_twice_sync")
    cases = [
        c for c in CASES if not any(f'name="{name}"' in c and "<failure" in c for name in in_scope_failures)
    ]
    cases = [c for c in cases if "teardown" not in c]
    results = suite.read_junit(junit(tmp_path, cases))

    assert suite.uncovered(results) == []
    assert suite.exit_status(results, 1) == 0
    # ... unless pytest did not finish (interrupted, timed out) or ran nothing
    assert suite.exit_status(results, 2) == 1
    assert suite.exit_status(results, None) == 1
    assert suite.exit_status([], 0) == 1


def test_out_of_scope_names_the_features_the_embedded_server_does_not_emulate_and_nothing_else(
    suite: ModuleType,
) -> None:
    expected = {
        f"{INTEGRATION}/tables/test_table_userdefinedtypes_sync.py::TestUDTSync::test_udt_sync": "tables",
        f"{INTEGRATION}/misc/test_vectorize_ops_sync.py::TestOpsSync::test_providers": "$vectorize",
        f"{INTEGRATION}/collections/test_collection_generalbm25_sync.py::TestBM25::test_bm25": "lexical",
        f"{INTEGRATION}/collections/test_collection_farrcursor_async.py::TestF::test_x": "findAndRerank",
        f"{INTEGRATION}/misc/test_reranking_ops_async.py::TestOps::test_providers": "findAndRerank",
        f"{INTEGRATION}/misc/test_admin_ops_sync.py::TestFindRegionsSync::test_regions_sync": "DevOps API",
        f"{INTEGRATION}/collections/test_collection_ddl_sync.py::TestDDLSync::"
        "test_collection_lifecycle_sync": "lexical search and reranking enabled",
        f"{INTEGRATION}/collections/test_collection_dml_async.py::TestDMLAsync::"
        "test_collection_binencvectors_everywhere_async": "findAndRerank",
    }
    in_scope = [
        f"{INTEGRATION}/collections/test_collection_dml_sync.py::TestDMLSync::test_collection_insert_one_vector_sync",
        f"{INTEGRATION}/collections/test_collection_ddl_sync.py::TestDDLSync::test_collection_default_id_type_sync",
        f"{INTEGRATION}/collections/test_collection_dml_sync.py::TestDMLSync::test_collection_find_projections_vectors_sync",
        f"{INTEGRATION}/collections/test_collection_cursor_async.py::TestCursorAsync::test_cursor_async",
        f"{INTEGRATION}/collections/test_collection_timeout_sync.py::TestTimeoutSync::test_timeout_sync",
    ]

    for test_id, reason in expected.items():
        assert reason in (suite.out_of_scope(test_id) or ""), test_id
    for test_id in in_scope:
        assert suite.out_of_scope(test_id) is None, test_id


def test_the_summary_has_the_table_each_failure_on_a_line_and_skips_by_reason(
    suite: ModuleType, tmp_path: Path
) -> None:
    results = suite.read_junit(junit(tmp_path, CASES))

    text = suite.render(results, heading="astrapy suite", details=["a line about the run"])
    lines = text.splitlines()

    assert "| **collections** | 9 | 3 | 4 | 1 | 1 |" in lines
    assert "| collections / dml | 3 | 2 | 1 | 0 | 0 |" in lines
    assert "| **misc** | 2 | 0 | 1 | 0 | 1 |" in lines
    assert "| **tables** | 3 | 1 | 0 | 1 | 1 |" in lines
    assert "| **all** | 14 | 4 | 5 | 2 | 3 |" in lines
    assert "### Failures and errors not covered by OUT_OF_SCOPE (2)" in lines
    assert (
        f"- `{INTEGRATION}/collections/test_collection_dml_async.py::TestCollectionDMLAsync::"
        "test_collection_insert_many_vectors_async` (failed): KeyError: '$vector'"
    ) in lines
    assert "### Failures and errors covered by OUT_OF_SCOPE (5)" in lines
    assert (
        f"- `{INTEGRATION}/tables/test_table_dml_sync.py::TestTableDMLSync::test_insert_sync` (errors): "
        "no tables"
    ) in lines
    assert "### Out-of-scope tests that passed (1; for information)" in lines
    assert any(line.startswith(f"- `{INTEGRATION}/tables/test_table_dml_async.py::") for line in lines)
    assert "- 2: Not supported outside of Astra DB" in lines
    assert "- 1: xfail: known" in lines


def test_a_file_that_could_not_be_collected_counts_as_an_error_of_its_area(
    suite: ModuleType, tmp_path: Path
) -> None:
    broken = (
        f'<testcase classname="" name="tests.base.integration.collections.test_collection_dml_sync" '
        f'file="{INTEGRATION}/collections/test_collection_dml_sync.py" time="0"><error message="collection '
        'failure">ImportError</error></testcase>'
    )

    [result] = suite.read_junit(junit(tmp_path, [broken]))

    assert (result.area, result.group, result.outcome) == ("collections", "dml", "errors")
    assert suite.exit_status([result], 1) == 1
