"""The handler's init leaves the garbage collector on, with the imported modules' objects frozen."""

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


def test_after_the_handler_is_imported_the_collector_is_on_and_the_modules_frozen() -> None:
    script = "import gc, json, orders_api.handler; print(json.dumps([gc.isenabled(), gc.get_freeze_count()]))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(REPO / "lambda_src")},
        capture_output=True,
        text=True,
        check=True,
    )
    enabled, frozen = json.loads(result.stdout.strip().splitlines()[-1])
    assert enabled
    assert frozen > 10_000  # the modules' objects: tens of thousands


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The gc switches of this process, recorded instead of flipped."""
    calls: list[str] = []
    state = {"on": True}
    monkeypatch.setattr(gc, "isenabled", lambda: state["on"])
    monkeypatch.setattr(gc, "disable", lambda: (calls.append("disable"), state.update(on=False)))
    monkeypatch.setattr(gc, "enable", lambda: (calls.append("enable"), state.update(on=True)))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(startup.lazy_packages, "install", lambda: [])
    monkeypatch.setattr(startup, "_collector_was_on", False)
    return calls


def test_begin_and_done_switch_the_collector_off_and_on_again(collector: list[str]) -> None:
    startup.begin()
    startup.begin()  # twice, as a reload would: the collector still comes back on
    startup.done()
    assert collector == ["disable", "disable", "freeze", "enable"]


def test_a_collector_switched_off_before_stays_off(collector: list[str]) -> None:
    gc.disable()
    collector.clear()
    startup.begin()
    startup.done()
    assert collector == ["disable", "freeze"]
