"""Two Powertools packages are lazy in the function: what it does not use stays unloaded, and the
packages behave as if their ``__init__`` had run.

Each check on the real packages runs in a fresh interpreter: this test process imported them long ago.
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


def _run(script: str, timeout: float = 60, **env: str) -> Any:
    """Run ``script`` in a fresh interpreter with the tests' settings; what it prints last, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "lambda_src"), str(REPO)]), **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_handler_answers_without_loading_what_it_does_not_use() -> None:
    refused, unknown, modules = _run(
        f"""
import json, sys
import tests.conftest  # the tests' settings
from tests.api_events import invoke
refused = invoke("POST", "/orders", body={{"productName": ""}})
unknown = invoke("GET", "/nowhere")
print(json.dumps([refused.status, unknown.status, {{name: name in sys.modules for name in {UNUSED!r}}}]))
"""
    )
    assert (refused, unknown) == (422, 404)
    assert modules == dict.fromkeys(UNUSED, False)


def test_each_package_binds_what_its_own_init_binds() -> None:
    # First every name the lazy package offers; then the real __init__ run into a plain namespace, as
    # Python would run it for the package; then compare name by name.
    outcome = _run(
        f"""
import importlib, json, sys
from orders_api import lazy_packages
lazy_packages.install()
report = {{}}
for name in {list(lazy_packages.PACKAGES)!r}:
    package = importlib.import_module(name)
    lazy = type(package) is lazy_packages.LazyPackage
    listed = dir(package)  # before any name is bound
    offered = {{attribute: getattr(package, attribute) for attribute in package.__all__}}
    eager = {{"__name__": name, "__package__": name, "__path__": package.__path__}}
    with open(package.__file__, encoding="utf-8") as file:
        exec(compile(file.read(), package.__file__, "exec"), eager)
    bound = {{key: value for key, value in eager.items() if not key.startswith("__")}}
    report[name] = {{
        "lazy": lazy,
        "names": len(bound),
        "all": package.__all__ == eager["__all__"],
        "doc": package.__doc__ == eager.get("__doc__"),
        "different": sorted(key for key, value in bound.items() if getattr(package, key) is not value),
        "offered_as_eager": all(offered[key] is eager[key] for key in offered),
        "unlisted": sorted(set(bound) - set(listed)),
    }}
print(json.dumps(report))
"""
    )
    for name, found in outcome.items():
        assert found["lazy"], f"{name}: its __init__ no longer only re-exports; it is imported as usual"
        assert found["names"] >= 10, name
        assert found == {**found, "all": True, "doc": True, "different": [], "offered_as_eager": True}, name
        assert found["unlisted"] == [], name


def test_submodules_are_attributes_and_unknown_names_are_not() -> None:
    outcome = _run(
        """
import json, types
from orders_api import lazy_packages
lazy_packages.install()
import aws_lambda_powertools.event_handler as package
from aws_lambda_powertools.event_handler import content_types  # a submodule, by from-import
try:
    package.NoSuchThing
    unknown = "found"
except AttributeError as error:
    unknown = str(error)
print(json.dumps([
    content_types.__name__,
    isinstance(package.api_gateway, types.ModuleType),
    hasattr(package, "appsync"),
    package.appsync.AppSyncResolver is package.AppSyncResolver,
    unknown,
]))
"""
    )
    assert outcome == [
        f"{EVENT_HANDLER}.content_types",
        True,
        True,
        True,
        f"module {EVENT_HANDLER!r} has no attribute 'NoSuchThing'",
    ]


def test_a_name_the_init_rebinds_stays_bound_when_its_submodule_is_imported_first() -> None:
    # data_classes.event_source is a decorator from the submodule of the same name.
    outcome = _run(
        """
import json, types
from orders_api import lazy_packages
lazy_packages.install()
import importlib
submodule = importlib.import_module("aws_lambda_powertools.utilities.data_classes.event_source")
from aws_lambda_powertools.utilities.data_classes import event_source
print(json.dumps([isinstance(submodule, types.ModuleType), event_source is submodule.event_source]))
"""
    )
    assert outcome == [True, True]


def test_dir_names_the_submodules_the_init_imports_before_any_is_imported() -> None:
    listed = _run(
        """
import json
from orders_api import lazy_packages
lazy_packages.install()
import aws_lambda_powertools.event_handler as package
print(json.dumps(sorted({"api_gateway", "appsync", "vpc_lattice", "Response"} - set(dir(package)))))
"""
    )
    assert listed == []


def test_a_patch_of_a_submodule_does_not_stay_in_the_package() -> None:
    # As with the __init__ run: the package's name is bound when its submodule is imported, so a mock
    # patched into the submodule afterwards is never the package's, during the patch or after it.
    outcome = _run(
        """
import json
from unittest import mock
from orders_api import lazy_packages
lazy_packages.install()
import aws_lambda_powertools.utilities.data_classes as package
with mock.patch("aws_lambda_powertools.utilities.data_classes.sqs_event.SQSEvent") as fake:
    from aws_lambda_powertools.utilities.data_classes import SQSEvent as during
print(json.dumps([during is fake, package.SQSEvent is fake, isinstance(package.SQSEvent, type)]))
"""
    )
    assert outcome == [False, False, True]


def test_a_reload_without_the_finder_or_a_replaced_spec_still_works() -> None:
    outcome = _run(
        """
import importlib, importlib.machinery, json, sys
from orders_api import lazy_packages
lazy_packages.install()
import aws_lambda_powertools.event_handler as package
response = package.Response
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, lazy_packages._LazyPackageFinder)]
package.__spec__ = importlib.machinery.PathFinder.find_spec(package.__name__, package.__path__[:0] or None)
importlib.reload(package)  # the real __init__, run into the module
print(json.dumps([package.Response is response, hasattr(package, "NoSuchThing"), hasattr(package, "a.b")]))
"""
    )
    assert outcome == [True, False, False]


def test_a_reload_looks_the_names_up_again_as_running_the_init_again_would() -> None:
    outcome = _run(
        """
import importlib, json
from orders_api import lazy_packages
lazy_packages.install()
import aws_lambda_powertools.event_handler as package
import aws_lambda_powertools.event_handler.api_gateway as api_gateway
first = package.Response
api_gateway.Response = "patched"
importlib.reload(package)
print(json.dumps([first.__name__, package.Response]))
"""
    )
    assert outcome == ["Response", "patched"]


@pytest.mark.parametrize("attempt", range(5))
def test_threads_importing_a_name_and_its_submodule_at_once_both_finish(attempt: int) -> None:
    # sqs_event imports a name back from its package while it loads: while one thread asks the package
    # for SQSEvent (importing sqs_event) and another imports sqs_event by its path, no lock of ours may
    # wait on the import system's while it waits on ours. Each attempt is a fresh interpreter.
    outcome = _run(
        """
import json, threading
from orders_api import lazy_packages
lazy_packages.install()
import aws_lambda_powertools.utilities.data_classes as package
start = threading.Barrier(2)
def by_name():
    start.wait()
    from aws_lambda_powertools.utilities.data_classes import SQSEvent
def by_path():
    start.wait()
    import aws_lambda_powertools.utilities.data_classes.sqs_event
threads = [threading.Thread(target=work, daemon=True) for work in (by_name, by_path)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(10)
print(json.dumps([sum(t.is_alive() for t in threads), package.SQSEvent.__name__]))
""",
        timeout=60,
    )
    assert outcome == [0, "SQSEvent"]


def test_an_init_that_does_more_than_re_export_is_run_as_usual(tmp_path: Path) -> None:
    for name, init in {
        "pure": '"""Doc."""\nfrom __future__ import annotations\nfrom pure.a import A as B\nfrom . import a\n'
        '__all__ = ["B"]\n',
        "computes": "from computes.a import A\nA.flag = True\n",
        "defines": "from defines.a import A\nVERSION = '1'\n",
        "star": "from star.a import *\n",
        "grandparent": "from ..elsewhere import A\n",
        "renamed_submodule": "from . import a as b\n",
        "all_computed": "from all_computed.a import A\n__all__ = [A.__name__]\n",
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(init)
        (tmp_path / name / "a.py").write_text("class A:\n    flag = False\n")
    outcome = _run(
        f"""
import json, sys
sys.path.insert(0, {str(tmp_path)!r})
from orders_api import lazy_packages
names = ["pure", "computes", "defines", "star", "renamed_submodule", "all_computed"]
lazy_packages.install(names)
found = {{}}
for name in names:
    package = __import__(name)
    found[name] = type(package).__name__
import pure, computes
loaded = ["pure.a" in sys.modules, pure.B.__name__, "pure.a" in sys.modules]
print(json.dumps([found, loaded, pure.__doc__, pure.__all__, computes.A.flag]))
"""
    )
    kinds, loaded, doc, exported, flag = outcome
    assert kinds == {
        "pure": "LazyPackage",
        "computes": "module",
        "defines": "module",
        "star": "module",
        "renamed_submodule": "module",
        "all_computed": "module",
    }
    assert loaded == [False, "A", True]  # the submodule is imported when the name is asked for
    assert (doc, exported, flag) == ("Doc.", ["B"], True)
    assert lazy_packages.re_exports("grandparent", str(tmp_path / "grandparent" / "__init__.py")) is None
    assert lazy_packages.re_exports("pure", str(tmp_path / "pure" / "__init__.pyc")) is None


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
