"""Two Powertools packages imported lazily: the function pays for the parts it uses, not for the rest.

Importing Powertools' HTTP resolver runs two package ``__init__`` modules that import far more than the
function uses:

- ``aws_lambda_powertools.event_handler``: every resolver (AppSync with asyncio, Bedrock agents, VPC
  Lattice, function URLs ...), when the function uses one;
- ``aws_lambda_powertools.utilities.data_classes``: some forty event classes, when it uses a few.

``make bench`` shows this with the other start-up measures (its two "libraries alone" lines).
Powertools made its parser package lazy the same way (a module ``__getattr__``, 2026); until these two
are, ``install()`` does it from the outside.

How: ``install()`` puts a finder first on ``sys.meta_path``. When one of these packages is imported,
the finder reads its ``__init__`` with ``ast``. Only an ``__init__`` that does nothing but re-export
(a docstring, ``from .x import A, B as C``, ``from . import sub``, an ``__all__`` literal) is made lazy:
the import system gets the package's own spec (its ``__path__``, ``__file__`` and submodules are the
real ones, and the parent names it as usual) with a loader that, instead of running the ``__init__``,
gives the module the table of what the ``__init__`` would bind. The names that come from a submodule
are bound when that submodule is imported, as the ``__init__`` would have bound them, which is when
one of them is first asked for at the latest; a submodule is imported when asked for as an attribute;
``__all__`` and ``__doc__`` come from the source; ``dir()`` lists the names and the submodules the
``__init__`` names. Any other ``__init__`` (one that
defines or computes something) is imported as usual, so a Powertools upgrade can cost the saving but
not change behaviour; ``tests/unit/test_lazy_packages.py`` says when that happens.

What still differs from running the ``__init__``: the package is a ``LazyPackage`` (a module
subclass), ``vars()`` holds only the names bound so far, ``hasattr`` imports any submodule it is asked
about (not only those the ``__init__`` imports), and a submodule deleted from ``sys.modules`` and
imported again rebinds its names on the package.

No lock: resolving a name is importing a module (which the import system serialises) and binding it;
two threads doing it at once bind the same object. The standard library's
``importlib.util.LazyLoader`` does not fit: importing a submodule reads the package's ``__path__``,
which makes it run the whole ``__init__`` at once.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import weakref
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple, cast

if TYPE_CHECKING:  # importlib.abc costs a third of what this module saves
    import importlib.abc

PACKAGES = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")


def install(packages: Sequence[str] = PACKAGES) -> list[str]:
    """Make the packages not imported yet lazy from now on; the names that may become lazy."""
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


class ReExports(NamedTuple):
    """What a re-exporting ``__init__`` binds: names from submodules, and its literal dunders."""

    names: dict[str, tuple[str, str]]  # name -> (the module it comes from, its name there)
    submodules: frozenset[str]  # ``from . import sub``
    all: list[str] | None
    doc: str | None


def re_exports(package: str, init_file: str) -> ReExports | None:
    """The table of a package ``__init__`` that only re-exports; None for any other ``__init__``."""
    import ast

    if not init_file.endswith(".py"):
        return None  # byte code only: nothing to read
    with open(init_file, encoding="utf-8") as file:
        tree = ast.parse(file.read(), init_file)
    names: dict[str, tuple[str, str]] = {}
    submodules: set[str] = set()
    exported: list[str] | None = None
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            if any(alias.asname is not None for alias in node.names):
                return None
            submodules.update(alias.name for alias in node.names)
            continue
        if isinstance(node, ast.ImportFrom):
            source = node.module if node.level == 0 else f"{package}.{node.module}" if node.level == 1 else ""
            if not source or not source.startswith(f"{package}.") or any(a.name == "*" for a in node.names):
                return None
            names.update({alias.asname or alias.name: (source, alias.name) for alias in node.names})
            continue
        if (
            isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["__all__"]
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            exported = [
                item.value
                for item in node.value.elts
                if isinstance(item, ast.Constant) and isinstance(item.value, str)
            ]
            if len(exported) != len(node.value.elts):
                return None  # something other than a list of strings
            continue
        return None  # the __init__ does something else: run it as usual
    return ReExports(names, frozenset(submodules), exported, ast.get_docstring(tree, clean=False))


class _LazyPackageFinder:
    """First on ``sys.meta_path``: a re-exporting package named here gets the lazy loader."""

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
        table = re_exports(fullname, spec.origin)
        if table is None:
            return None
        # A loader by protocol (create_module, exec_module): importlib.abc stays unimported.
        spec.loader = cast("importlib.abc.Loader", _LazyPackageLoader(spec.loader, table))
        return spec

    def invalidate_caches(self) -> None:
        """Nothing cached here (``importlib.invalidate_caches`` asks every finder)."""


class _LazyPackageLoader:
    """Makes the module a ``LazyPackage`` with the ``__init__``'s table instead of running it."""

    def __init__(self, loader: importlib.abc.Loader, table: ReExports) -> None:
        self._loader = loader
        self.table = table

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the import system's default module

    def exec_module(self, module: ModuleType) -> None:
        # As running the __init__ again would (importlib.reload): every re-exported name is looked up
        # afresh in its submodule when next asked for.
        for name in (*self.table.names, "__all__"):
            module.__dict__.pop(name, None)
        module.__doc__ = self.table.doc
        _TABLES[module] = self.table
        module.__class__ = LazyPackage

    def __getattr__(self, name: str) -> object:
        """The rest of the real loader (``get_data``, ``get_resource_reader`` ...), for whoever asks;
        not the legacy ``load_module``, which would run the ``__init__``."""
        if name.startswith("_") or name == "load_module":
            raise AttributeError(name)
        return getattr(self._loader, name)


# Each lazy package's table, by module: kept apart from its __spec__, which a reload or a caller may
# replace, and from its namespace, which would show it.
_TABLES: weakref.WeakKeyDictionary[ModuleType, ReExports] = weakref.WeakKeyDictionary()
_NOTHING = ReExports({}, frozenset(), None, None)


class LazyPackage(ModuleType):
    """A re-exporting package whose names are bound when the submodule they come from is imported, as
    the ``__init__`` would bind them, or on first use."""

    def _table(self) -> ReExports:
        return _TABLES.get(self, _NOTHING)

    def __getattr__(self, attribute: str) -> object:
        table = self._table()
        name = self.__name__
        origin = table.names.get(attribute)
        if origin is not None:
            importlib.import_module(origin[0])  # binds the names that come from it (__setattr__)
            if attribute not in self.__dict__:  # from a deeper submodule: bound here, now
                self.__dict__[attribute] = getattr(sys.modules[origin[0]], origin[1])
            return self.__dict__[attribute]
        if attribute == "__all__" and table.all is not None:
            self.__dict__["__all__"] = exported = list(table.all)
            return exported
        if (
            attribute.isidentifier()
            and not attribute.startswith("__")
            and importlib.machinery.PathFinder.find_spec(f"{name}.{attribute}", self.__path__)
        ):
            return importlib.import_module(f"{name}.{attribute}")  # a submodule, as an attribute
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    def __setattr__(self, attribute: str, value: object) -> None:
        super().__setattr__(attribute, value)
        if not (isinstance(value, ModuleType) and value.__name__ == f"{self.__name__}.{attribute}"):
            return
        # The import system names each submodule it has loaded on its package: bind what the __init__
        # imports from it, now, as running the __init__ would have (a patch or a reload of the submodule
        # afterwards leaves the package's names alone). A name the __init__ binds over the submodule's
        # own (data_classes.event_source) is bound over it here too.
        for bound, (source, original) in self._table().names.items():
            fresh = bound not in self.__dict__ or bound == attribute
            if source == value.__name__ and fresh and hasattr(value, original):
                self.__dict__[bound] = getattr(value, original)

    def __dir__(self) -> list[str]:
        table = self._table()
        prefix = f"{self.__name__}."
        children = {source[len(prefix) :].split(".")[0] for source, _ in table.names.values()}
        listed = {*self.__dict__, *table.names, *table.submodules, *children}
        return sorted(listed | {"__all__"} if table.all is not None else listed)
