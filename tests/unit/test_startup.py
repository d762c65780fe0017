"""The handler's init phase leaves the garbage collector as it found it, with the service's objects
frozen after a successful import and nothing frozen after a failed one."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orders_api import startup

REPO = Path(__file__).resolve().parents[2]


def _after_importing_the_handler(**env: str) -> list[object]:
    script = """
import gc, json
try:
    import orders_api.handler
    imported = True
except Exception:
    imported = False
print(json.dumps([imported, gc.isenabled(), gc.get_freeze_count()]))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(REPO / "lambda_src"), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    outcome: list[object] = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome


def test_after_the_handler_is_imported_the_collector_is_on_and_the_modules_frozen() -> None:
    imported, enabled, frozen = _after_importing_the_handler()
    assert imported
    assert enabled
    assert isinstance(frozen, int)
    assert frozen > 10_000  # the modules' objects: tens of thousands


def test_no_collection_runs_while_the_service_is_imported() -> None:
    script = """
import gc, json
import orders_api.startup  # what handler.py imports before the init phase begins
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
import orders_api.handler
print(json.dumps(len(collections)))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(REPO / "lambda_src")},
        capture_output=True,
        text=True,
        check=True,
    )
    # Without the init phase's switch the collector runs some eighty times during this import.
    assert json.loads(result.stdout.strip().splitlines()[-1]) == 0


def test_after_a_failed_import_the_collector_is_on_and_nothing_is_frozen() -> None:
    # A log level Python's logging does not know makes the service's import fail.
    assert _after_importing_the_handler(POWERTOOLS_LOG_LEVEL="VERBOSE") == [False, True, 0]


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The gc switches of this process, recorded instead of flipped."""
    calls: list[str] = []
    state = {"on": True}
    monkeypatch.setattr(gc, "isenabled", lambda: state["on"])
    monkeypatch.setattr(gc, "disable", lambda: (calls.append("disable"), state.update(on=False)))
    monkeypatch.setattr(gc, "enable", lambda: (calls.append("enable"), state.update(on=True)))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(startup.lazy_packages, "install", lambda: calls.append("lazy packages"))
    return calls


def test_the_collector_is_off_during_the_init_phase_and_on_after_it(collector: list[str]) -> None:
    with startup.init_phase():
        collector.append("imports")
    assert collector == ["disable", "lazy packages", "imports", "freeze", "enable"]


def test_a_failed_init_phase_freezes_nothing_and_lets_the_error_through(collector: list[str]) -> None:
    with pytest.raises(ValueError, match="bad import"), startup.init_phase():
        raise ValueError("bad import")
    assert collector == ["disable", "lazy packages", "enable"]


def test_a_collector_switched_off_before_stays_off(collector: list[str]) -> None:
    gc.disable()
    collector.clear()
    with startup.init_phase():
        pass
    with pytest.raises(ValueError, match="bad import"), startup.init_phase():
        raise ValueError("bad import")
    assert collector == ["disable", "lazy packages", "freeze", "disable", "lazy packages"]


def test_without_character_detection_the_handler_starts_quietly_and_reads_json() -> None:
    # As in the function's asset: neither chardet nor charset-normalizer can be imported. Warnings are
    # errors here, so the one requests gives at import would fail the handler's import.
    script = """
import importlib.abc, json, sys

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("chardet", "charset_normalizer"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
import orders_api.handler
import requests

answers = []
for content_type in ("application/json", "application/json; charset=utf-8", None):
    response = requests.models.Response()
    response._content = '{"productName": "th\\u00e9 vert"}'.encode()
    if content_type:
        response.headers["Content-Type"] = content_type
    answers.append([response.json()["productName"], response.text])
print(json.dumps({"detection": requests.compat.chardet is not None, "answers": answers}))
"""
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        env={**os.environ, "PYTHONPATH": str(REPO / "lambda_src")},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["detection"] is False
    assert [name for name, _ in outcome["answers"]] == ["th\u00e9 vert"] * 3
    assert all(text == '{"productName": "th\u00e9 vert"}' for _, text in outcome["answers"])
