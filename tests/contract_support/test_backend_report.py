"""The end-of-run line and ``CONTRACT_REQUIRE_BACKENDS``, across the suites that share them."""

from __future__ import annotations

import pytest

from tests.contract_support.backend_report import BackendReport, _Outcome

SUITES = {
    "backend": "contract backends",
    "data_backend": "data API contract backends",
    "astra_backend": "astrapy suite backends",
}


def _report(**outcomes: dict[str, _Outcome]) -> BackendReport:
    return BackendReport(fixtures=dict(SUITES), outcomes=dict(outcomes))


def _ran() -> _Outcome:
    return _Outcome(ran=True)


def _skipped(reason: str) -> _Outcome:
    return _Outcome(skip_reason=reason)


def test_a_required_backend_must_run_in_every_suite_that_offers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTRACT_REQUIRE_BACKENDS", "container,compose")
    report = _report(
        backend={"embedded": _ran(), "container": _ran()},
        data_backend={"embedded": _ran(), "compose": _ran()},
        astra_backend={"embedded": _ran(), "compose": _skipped("no Docker engine")},
    )

    assert report.missing_required() == ["compose (astrapy suite backends)"]

    report.outcomes["astra_backend"]["compose"] = _ran()
    assert report.missing_required() == []


def test_a_required_backend_that_ran_nowhere_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTRACT_REQUIRE_BACKENDS", "compose")
    report = _report(
        astra_backend={"embedded": _ran(), "compose": _skipped("listed in CONTRACT_SKIP_BACKENDS")}
    )

    assert report.missing_required() == ["compose"]


def test_suites_not_run_are_neither_reported_nor_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTRACT_REQUIRE_BACKENDS", "container")
    report = _report(backend={"container": _ran()})

    assert report.missing_required() == []
    assert report.summary_lines() == ["contract backends: ran container"]


def test_the_line_names_what_ran_errored_and_was_skipped() -> None:
    report = _report(
        astra_backend={
            "embedded": _ran(),
            "compose": _Outcome(error="RuntimeError: never ready"),
            "external": _skipped("CONTRACT_DATA_API_URL is not set"),
        }
    )

    assert report.summary_lines() == [
        "astrapy suite backends: ran embedded; errored compose (RuntimeError: never ready); "
        "skipped external (CONTRACT_DATA_API_URL is not set)"
    ]
