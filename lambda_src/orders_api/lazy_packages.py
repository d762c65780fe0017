"""Two Powertools packages imported lazily: the handler pays for the parts it uses, not for the rest.

``aws_lambda_powertools.event_handler`` imports every resolver it has when it is imported (AppSync with
asyncio, Bedrock agents, VPC Lattice, function URLs ...), and ``aws_lambda_powertools.utilities.data_classes``
every event class (some forty modules). The function uses one resolver and one event class, yet
importing ``APIGatewayHttpResolver`` from anywhere runs both package ``__init__`` modules; ``make bench``
puts that near a tenth of the cold path. Powertools made its parser package lazy the same way (a module
``__getattr__``, 2026); until these two packages are, ``install()`` does it from the outside.

How: before either package is imported, ``install()`` puts in ``sys.modules`` a module built from the
package's own import spec (so its ``__path__``, ``__file__`` and submodules are the real ones) and gives
it a ``__getattr__``. A name the package's ``__init__`` imports from one of its submodules, found by
reading that ``__init__`` with ``ast``, is taken from that submodule alone; a submodule is imported as
usual; any other name runs the real ``__init__`` once, into the same module object. Everything the
package offers keeps working, only later. One difference remains: where the ``__init__`` binds a name
to something other than the submodule of that name (``data_classes.event_source`` is a decorator from
the ``event_source`` submodule), importing that submodule before the name is asked for leaves the
package naming the submodule, as Python does for a package whose ``__init__`` has not finished.

The standard library's ``importlib.util.LazyLoader`` does not fit: importing a submodule reads the
package's ``__path__``, which makes it run the whole ``__init__`` at once.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importlib.abc costs more to import than this whole module saves a tenth of
    import importlib.abc

PACKAGES = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")

_lock = threading.RLock()


def install(packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Make each package lazy unless it is already imported (or missing); the names made lazy.

    Their parent packages (``aws_lambda_powertools`` and its ``utilities``) are imported as usual."""
    installed = []
    for name in packages:
        if name not in sys.modules and (module := _lazy_package(name)) is not None:
            sys.modules[name] = module
            installed.append(name)
    return installed


def _lazy_package(name: str) -> ModuleType | None:
    parent_name, _, child = name.rpartition(".")
    spec = importlib.util.find_spec(name)  # imports the parent packages, not this one
    if spec is None or spec.loader is None or spec.origin is None or spec.submodule_search_locations is None:
        return None
    module = importlib.util.module_from_spec(spec)
    module.__getattr__ = _LazyAttributes(module, spec.loader, spec.origin)  # type: ignore[method-assign]
    # As the import system does once it has loaded a submodule: the parent names its child.
    setattr(sys.modules[parent_name], child, module)
    return module


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
