"""Three library packages are lazy in the function: what it does not use stays unloaded, and every name
the packages offer still resolves to the object their own ``__init__`` gives.

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
EVENT_HANDLER, DATA_CLASSES, CHARSET = lazy_packages.PACKAGES
# Modules the function never needs: what the three package __init__ modules import eagerly.
UNUSED = (
    "asyncio",
    f"{EVENT_HANDLER}.appsync",
    f"{EVENT_HANDLER}.vpc_lattice",
    f"{EVENT_HANDLER}.events_appsync",
    f"{DATA_CLASSES}.sqs_event",
    f"{DATA_CLASSES}.dynamo_db_stream_event",
    f"{CHARSET}.api",
)


def _run(script: str, **env: str) -> Any:
    """Run ``script`` in a fresh interpreter with the tests' settings; what it prints last, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "lambda_src"), str(REPO)]), **env},
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
""",
    )
    refused, unknown, modules = loaded
    assert (refused, unknown) == (422, 404)
    assert modules == dict.fromkeys(UNUSED, False)


def test_every_name_the_packages_offer_is_the_object_their_init_gives() -> None:
    # First every name lazily, then the whole __init__ (a star import reads __all__), then compare.
    outcome = _run(
        f"""
import importlib, json, sys
from orders_api import lazy_packages
report = {{"made_lazy": lazy_packages.install()}}
for name in {list(lazy_packages.PACKAGES)!r}:
    package = importlib.import_module(name)
    lazy = isinstance(getattr(package, "__getattr__", None), lazy_packages._LazyAttributes)
    table = lazy_packages._top_level_imports(name, package.__file__)
    lazily = {{attribute: getattr(package, attribute) for attribute in table}}
    exec(f"from {{name}} import *", {{}})
    parent, _, child = name.rpartition(".")
    report[name] = {{
        "lazy": lazy,
        "exports": sorted(package.__all__),
        "table": sorted(table),
        "same": all(getattr(package, a) is value for a, value in lazily.items()),
        "parent_names_it": not parent or getattr(sys.modules[parent], child) is package,
    }}
print(json.dumps(report))
"""
    )
    assert outcome.pop("made_lazy") == list(lazy_packages.PACKAGES)
    for name, found in outcome.items():
        assert found["lazy"], name
        assert found["same"], name
        assert found["parent_names_it"], name
        # Every name the package exports either comes from one submodule or is defined in __init__.
        assert found["table"], f"{name}: no name read from its __init__"


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


def test_requests_still_checks_its_dependencies_and_guesses_an_undeclared_encoding() -> None:
    outcome = _run(
        """
import json, sys, warnings
from orders_api import lazy_packages
lazy_packages.install()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import requests  # checks the charset_normalizer version it finds, and warns if it finds none
detector_loaded_by_import = "charset_normalizer.api" in sys.modules
answer = requests.models.Response()
answer._content = "Grüße aus Köln, déjà vu".encode("utf-8")
answer.encoding = None
dependency_warnings = [
    str(w.message) for w in caught if type(w.message).__name__ == "RequestsDependencyWarning"
]
print(json.dumps([dependency_warnings, detector_loaded_by_import, answer.apparent_encoding, answer.text]))
"""
    )
    assert outcome == [[], False, "utf-8", "Grüße aus Köln, déjà vu"]


@pytest.mark.parametrize("package", lazy_packages.PACKAGES)
def test_a_package_already_imported_is_left_as_it_is(package: str) -> None:
    __import__(package)
    module = sys.modules[package]
    meta_path = list(sys.meta_path)
    assert lazy_packages.install((package,)) == []
    assert sys.meta_path == meta_path
    assert sys.modules[package] is module


def test_a_missing_package_fails_to_import_as_without_the_finder() -> None:
    outcome = _run(
        """
import json
from orders_api import lazy_packages
lazy_packages.install(("aws_lambda_powertools.no_such_package", "json.decoder"))
try:
    import aws_lambda_powertools.no_such_package
    missing = "imported"
except ModuleNotFoundError as error:
    missing = error.name
import json.decoder  # a module, not a package: imported as usual
print(json.dumps([missing, hasattr(json.decoder, "JSONDecoder")]))
"""
    )
    assert outcome == ["aws_lambda_powertools.no_such_package", True]
