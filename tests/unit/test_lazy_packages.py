"""Two Powertools packages are lazy in the function: unused resolvers and event classes stay unloaded,
and every name the packages offer still resolves to the object their own ``__init__`` gives.

Each check runs in a fresh interpreter: this test process has imported everything long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orders_api import lazy_packages

REPO = Path(__file__).resolve().parents[2]
EVENT_HANDLER, DATA_CLASSES = lazy_packages.PACKAGES
# Modules the function never needs: what the two package __init__ modules import eagerly.
UNUSED = (
    "asyncio",
    f"{EVENT_HANDLER}.appsync",
    f"{EVENT_HANDLER}.vpc_lattice",
    f"{EVENT_HANDLER}.events_appsync",
    f"{DATA_CLASSES}.sqs_event",
    f"{DATA_CLASSES}.dynamo_db_stream_event",
)


def _run(script: str) -> Any:
    """Run ``script`` in a fresh interpreter with the tests' settings; what it prints last, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "lambda_src"), str(REPO)])},
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_handler_answers_without_loading_what_it_does_not_use() -> None:
    loaded = _run(
        f"""
import json, sys
import tests.conftest  # the tests' settings
from tests.api_events import invoke
refused = invoke("POST", "/orders", body={{"productName": ""}})
unknown = invoke("GET", "/nowhere")
modules = {{name: name in sys.modules for name in {UNUSED!r}}}
print(json.dumps([refused.status, unknown.status, modules]))
"""
    )
    refused, unknown, modules = loaded
    assert (refused, unknown) == (422, 404)
    assert modules == dict.fromkeys(UNUSED, False)


def test_every_name_the_packages_offer_is_the_object_their_init_gives() -> None:
    # First every name lazily, then the whole __init__ (star import reads __all__), then compare.
    outcome = _run(
        f"""
import importlib, json, sys
from orders_api import lazy_packages
made_lazy = lazy_packages.install()
report = {{"made_lazy": made_lazy}}
for name in {list(lazy_packages.PACKAGES)!r}:
    package = importlib.import_module(name)
    table = lazy_packages._top_level_imports(name, package.__file__)
    lazily = {{attribute: getattr(package, attribute) for attribute in table}}
    exec(f"from {{name}} import *", {{}})
    report[name] = {{
        "exports": sorted(package.__all__),
        "table": sorted(table),
        "same": all(getattr(package, a) is value for a, value in lazily.items()),
        "parent_names_it": getattr(sys.modules[name.rpartition(".")[0]], name.rpartition(".")[2]) is package,
    }}
print(json.dumps(report))
"""
    )
    assert outcome.pop("made_lazy") == list(lazy_packages.PACKAGES)
    for name, found in outcome.items():
        assert found["same"], name
        assert found["parent_names_it"], name
        assert set(found["exports"]) <= set(found["table"]), f"{name} exports names its table lacks"
        assert len(found["table"]) >= 10, name  # the table was read, not empty


def test_submodules_and_unknown_names_behave_as_in_an_eager_package() -> None:
    outcome = _run(
        f"""
import json, sys
from orders_api import lazy_packages
lazy_packages.install()
from aws_lambda_powertools.event_handler import content_types  # a submodule, by from-import
import aws_lambda_powertools.event_handler.appsync as appsync   # a submodule, by import
import aws_lambda_powertools.event_handler as package
before = "{EVENT_HANDLER}.vpc_lattice" in sys.modules
try:
    package.NoSuchThing
    unknown = "found"
except AttributeError as error:
    unknown = str(error)
print(json.dumps([content_types.__name__, appsync.AppSyncResolver.__name__, before,
                  "{EVENT_HANDLER}.vpc_lattice" in sys.modules, unknown]))
"""
    )
    assert outcome == [
        f"{EVENT_HANDLER}.content_types",
        "AppSyncResolver",
        False,
        True,  # an unknown name ran the package's own __init__ before giving up
        f"module {EVENT_HANDLER!r} has no attribute 'NoSuchThing'",
    ]


@pytest.mark.parametrize("package", lazy_packages.PACKAGES)
def test_a_package_already_imported_is_left_as_it_is(package: str) -> None:
    __import__(package)
    module = sys.modules[package]
    assert lazy_packages.install((package,)) == []
    assert sys.modules[package] is module


def test_a_missing_package_is_skipped() -> None:
    assert lazy_packages.install(("aws_lambda_powertools.no_such_package",)) == []
