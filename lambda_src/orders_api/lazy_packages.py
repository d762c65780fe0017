"""Three library packages imported lazily: the function pays for the parts it uses, not for the rest.

Three packages the function depends on import far more in their ``__init__`` than the function uses:

- ``aws_lambda_powertools.event_handler``: every resolver (AppSync with asyncio, Bedrock agents, VPC
  Lattice, function URLs ...), when the function uses one;
- ``aws_lambda_powertools.utilities.data_classes``: some forty event classes, when it uses a few;
- ``charset_normalizer``: its detector, which ``requests`` calls only to guess the encoding of a text
  answer that declares none (the store answers JSON, which needs no guess).

Together that is about a tenth of the cold path (``make bench``). Powertools made its parser package
lazy the same way (a module ``__getattr__``, 2026); until these are, ``install()`` does it from the
outside.

How: ``install()`` puts a finder first on ``sys.meta_path``. When one of these packages is imported,
the finder gives the import system the package's own spec (its ``__path__``, ``__file__`` and
submodules are the real ones, and the parent package names it as usual) with a loader that does not
run the ``__init__`` but gives the module a ``__getattr__``. A name the ``__init__`` imports from one
of its submodules, found by reading that ``__init__`` with ``ast``, is taken from that submodule alone;
a submodule is imported as usual; any other name runs the real ``__init__`` once, into the same module
object. Everything the package offers keeps working, only later. One difference remains: where the
``__init__`` binds a name to something other than the submodule of that name
(``data_classes.event_source`` is a decorator from the ``event_source`` submodule), importing that
submodule before the name is asked for leaves the package naming the submodule, as Python does for a
package whose ``__init__`` has not finished.

The standard library's ``importlib.util.LazyLoader`` does not fit: importing a submodule reads the
package's ``__path__``, which makes it run the whole ``__init__`` at once.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # importlib.abc costs a third of what this module saves
    import importlib.abc

PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
    "charset_normalizer",
)

_lock = threading.RLock()


def install(packages: Sequence[str] = PACKAGES) -> list[str]:
    """Make the packages not imported yet lazy from now on; the names that will be."""
    waiting = [name for name in packages if name not in sys.modules]
    if not waiting:
        return waiting
    for finder in sys.meta_path:
        if isinstance(finder, _LazyPackageFinder):
            finder.names.update(waiting)
            break
    else:
        sys.meta_path.insert(0, _LazyPackageFinder(waiting))
    return waiting


class _LazyPackageFinder:
    """First on ``sys.meta_path``: the real spec of a package named here, with a lazy loader."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = set(names)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or spec.origin is None or not spec.submodule_search_locations:
            return None  # missing, or not a package: the import system carries on as without us
        # A loader by protocol (create_module, exec_module): importlib.abc stays unimported.
        spec.loader = cast("importlib.abc.Loader", _LazyPackageLoader(spec.loader, spec.origin))
        return spec

    def invalidate_caches(self) -> None:
        """Nothing cached here (``importlib.invalidate_caches`` asks every finder)."""


class _LazyPackageLoader:
    """Gives the package a ``__getattr__`` instead of running its ``__init__``."""

    def __init__(self, loader: importlib.abc.Loader, init_file: str) -> None:
        self._loader = loader
        self._init_file = init_file

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the import system's default module

    def exec_module(self, module: ModuleType) -> None:
        module.__getattr__ = _LazyAttributes(module, self._loader, self._init_file)  # type: ignore[method-assign]

    def __getattr__(self, name: str) -> object:
        """The rest of the real loader (``get_data``, ``get_resource_reader`` ...), for whoever asks."""
        return getattr(self._loader, name)


class _LazyAttributes:
    """The lazy package's ``__getattr__``: called only for names the module does not have yet."""

    def __init__(self, module: ModuleType, loader: importlib.abc.Loader, init_file: str) -> None:
        self._module = module
        self._loader = loader
        self._init_file = init_file
        self._exports: dict[str, str] | None = None
        self._whole = False

    def __call__(self, attribute: str) -> object:
        name = self._module.__name__
        missing = AttributeError(f"module {name!r} has no attribute {attribute!r}")
        with _lock:
            if self._whole:
                raise missing
            if self._exports is None:
                self._exports = _top_level_imports(name, self._init_file)
            origin = self._exports.get(attribute)
            if origin is not None:
                value = getattr(importlib.import_module(origin), attribute)
                setattr(self._module, attribute, value)
                return value
            if importlib.machinery.PathFinder.find_spec(f"{name}.{attribute}", self._module.__path__):
                raise missing  # a submodule: the import system imports it (and sets it here) on this
            # Anything else: the package's own __init__, once, into this very module.
            self._whole = True
            self._loader.exec_module(self._module)
            if attribute in self._module.__dict__:
                return self._module.__dict__[attribute]
            raise missing


def _top_level_imports(package: str, init_file: str) -> dict[str, str]:
    """``from <package>.x import A, B as C`` at the top of ``__init__``: {"A": "<package>.x", "C": ...}."""
    import ast

    with open(init_file, encoding="utf-8") as file:
        tree = ast.parse(file.read(), init_file)
    table: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or node.module is None:
            continue
        source = node.module if node.level == 0 else f"{package}.{node.module}" if node.level == 1 else None
        if source is None or not source.startswith(f"{package}."):
            continue
        for alias in node.names:
            if alias.name != "*":
                table[alias.asname or alias.name] = source
    return table
