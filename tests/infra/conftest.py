"""Synthesizes the CDK app in-process, once per distinct configuration, for the whole session."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.infra.recorded_cli import RecordedCli
from tests.infra.synthesis import Synthesized


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synthesized]:
    """``synth(key="value")`` synthesizes with that context override, reusing earlier identical synths."""
    cache: dict[str, Synthesized] = {}

    def _synth(**overrides: Any) -> Synthesized:
        key = json.dumps(overrides, sort_keys=True)
        if key not in cache:
            cache[key] = Synthesized.build(tmp_path_factory.mktemp("cdk.out"), **overrides)
        return cache[key]

    return _synth


@pytest.fixture(scope="session")
def default_stack(synth: Callable[..., Synthesized]) -> Synthesized:
    """The stack exactly as ``make synth`` builds it, with no -c flags."""
    return synth()


@pytest.fixture
def cli(tmp_path: Path) -> RecordedCli:
    """``make`` whose CDK CLI is a stand-in that records its command lines (``recorded_cli.py``)."""
    return RecordedCli(tmp_path)
