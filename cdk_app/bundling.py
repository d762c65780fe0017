"""Builds the function's code asset on the host, without Docker.

pip installs the pinned runtime closure (``lambda_src/requirements.txt``) as wheels built for the
target platform, then the ``orders_api`` package is copied beside it. Both steps are cached under
``.build/`` by a hash of their inputs, so a repeated synth reuses the directory and a code change
only re-copies the package (the dependencies are hard-linked). The same hash is the CDK asset hash,
so CDK does not fingerprint the directory again and the template stays the same across machines.

Byte code: Lambda's code directory is read-only, so without ``__pycache__`` in the asset every cold
start compiles every module it imports (``make bench`` shows what that costs). Byte code only loads
in the exact Python it was made by, so the asset carries it when an interpreter of the runtime's
version is on the PATH (``python3.14``; the GitHub deploy workflow installs one), compiled with
hash-based invalidation (no timestamps: the same sources give the same files). Without one, the asset
has none, and the synth says so.

Modes are normalised (folders 755, files 644): the CDK CLI zips them as they are, and Lambda runs the
code as another user, so a build under a strict umask (077) would otherwise fail every invocation
with ``Runtime.ImportModuleError ... Permission denied``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
LAMBDA_SOURCE_DIR: Final = REPO_ROOT / "lambda_src"
BUILD_ROOT: Final = REPO_ROOT / ".build" / "lambda"
PACKAGE_NAME: Final = "orders_api"
# Bump when the layout of a built asset changes, so old cache entries are not reused.
_BUILD_FORMAT: Final = "2"
DIRECTORY_MODE: Final = 0o755
FILE_MODE: Final = 0o644
_SKIPPED_DIRS: Final = frozenset({"__pycache__"})
_SKIPPED_SUFFIXES: Final = frozenset({".pyc", ".pyo"})
# A scratch directory this old belongs to a synth that was killed, not to one still running.
_STALE_SCRATCH_SECONDS: Final = 3600


@dataclass(frozen=True)
class Target:
    """Where the asset will run: a pip platform tag and a CPython ``major.minor``."""

    pip_platform: str
    python_version: str

    @property
    def label(self) -> str:
        return f"{self.pip_platform}-cp{self.python_version.replace('.', '')}"


@dataclass(frozen=True)
class BuiltAsset:
    """A finished asset directory and the hash of everything that went into it."""

    path: Path
    asset_hash: str


class BundlingError(RuntimeError):
    """The asset could not be built (missing source, or pip failed)."""


def build_function_asset(
    target: Target, source_dir: Path = LAMBDA_SOURCE_DIR, build_root: Path = BUILD_ROOT
) -> BuiltAsset:
    """Return the asset directory for ``target``, building it only if its inputs changed."""
    package_dir = source_dir / PACKAGE_NAME
    requirements = source_dir / "requirements.txt"
    if not (package_dir / "handler.py").is_file():
        raise BundlingError(f"{package_dir / 'handler.py'} not found: the function code is missing")
    if not requirements.is_file():
        raise BundlingError(f"{requirements} not found: the function's pinned dependencies are missing")

    deps_hash = _sha256(_BUILD_FORMAT, target.label, requirements.read_bytes())
    deps_dir = build_root / "deps" / f"{target.label}-{deps_hash[:16]}"
    if not deps_dir.is_dir():
        _build_once(deps_dir, lambda tmp: _install_requirements(requirements, target, tmp))

    files = sorted(_package_files(package_dir))
    compiler = byte_code_compiler(target)
    asset_hash = _sha256(
        deps_hash, f"byte code: {compiler.version if compiler else 'none'}", *_contents(files, source_dir)
    )
    asset_dir = build_root / "function" / f"{target.label}-{asset_hash[:16]}"
    if not asset_dir.is_dir():

        def assemble(tmp: Path) -> None:
            # Hard links: the dependencies are never modified, so the asset shares them with the cache.
            shutil.copytree(deps_dir, tmp, dirs_exist_ok=True, copy_function=_link_or_copy)
            _copy(files, source_dir, tmp)
            if compiler is not None:
                compiler.compile(tmp)

        _build_once(asset_dir, assemble)
    return BuiltAsset(path=asset_dir, asset_hash=asset_hash)


@dataclass(frozen=True)
class ByteCodeCompiler:
    """An interpreter of the target's Python version, which compiles a directory's modules."""

    executable: str
    version: str

    def compile(self, directory: Path) -> None:
        """Write ``__pycache__`` for every module below ``directory``, hash-based (no timestamps)."""
        command = [self.executable, "-m", "compileall", "-q", "-j", "0"]
        command += ["--invalidation-mode", "unchecked-hash", str(directory)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our command
        if result.returncode != 0:
            raise BundlingError(f"compileall with {self.executable} failed:\n{result.stdout}{result.stderr}")


@functools.cache
def byte_code_compiler(target: Target) -> ByteCodeCompiler | None:
    """``python<major.minor>`` of the target from the PATH, or None (the asset then has no byte code).

    A command of that name that does not run, or runs another version (a pyenv shim for a version
    that is installed but not selected answers with exit code 127), counts as none. Looked up once per
    process: every synth asks for each asset, and each answer asked an interpreter.
    """
    wanted = f"python{target.python_version}"
    executable = shutil.which(wanted)
    if executable is None:
        why = f"no {wanted} on the PATH"
    else:
        version, failure = _version_of(executable)
        if version.startswith(f"{target.python_version}."):
            return ByteCodeCompiler(executable, version)
        why = f"{executable} {failure or f'is Python {version}'}"
    print(
        f"note: {why}: the function asset carries no byte code, so each cold start compiles the modules "
        "it imports",
        file=sys.stderr,
    )
    return None


def _version_of(executable: str) -> tuple[str, str]:
    """The version an interpreter reports, or "" and why it reported none."""
    try:
        result = subprocess.run(  # noqa: S603 - an interpreter found on the PATH, no shell
            [executable, "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return "", f"did not run ({type(error).__name__})"
    if result.returncode != 0:
        return "", f"did not run (exit code {result.returncode})"
    return result.stdout.strip(), ""


def build_source_asset(source_dir: Path, name: str, build_root: Path = BUILD_ROOT) -> BuiltAsset:
    """A copy of a small source-only function (no dependencies) with normalised modes, no byte code."""
    files = sorted(_package_files(source_dir))
    if not files:
        raise BundlingError(f"{source_dir} holds no source files")
    asset_hash = _sha256(_BUILD_FORMAT, *_contents(files, source_dir))
    asset_dir = build_root / "source" / f"{name}-{asset_hash[:16]}"
    if not asset_dir.is_dir():
        _build_once(asset_dir, lambda tmp: _copy(files, source_dir, tmp))
    return BuiltAsset(path=asset_dir, asset_hash=asset_hash)


def _contents(files: list[Path], root: Path) -> Iterator[str | bytes]:
    """What an asset's hash covers of ``files``: each one's path below ``root`` and its bytes."""
    for path in files:
        yield path.relative_to(root).as_posix()
        yield path.read_bytes()


def _copy(files: list[Path], root: Path, destination_root: Path) -> None:
    for path in files:
        destination = destination_root / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def zipped_size(directory: Path) -> int:
    """The size of ``directory`` zipped as the CDK CLI uploads a code asset (deflate), in bytes."""
    with tempfile.TemporaryFile() as scratch:
        with zipfile.ZipFile(scratch, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(directory.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(directory).as_posix())
        return scratch.tell()


def _install_requirements(requirements: Path, target: Target, destination: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "install",
        "--no-deps", "--only-binary=:all:", "--no-compile",
        "--platform", target.pip_platform, "--implementation", "cp",
        "--python-version", target.python_version,
        "--target", str(destination),
        "--requirement", str(requirements),
        "--disable-pip-version-check", "--no-input", "--quiet",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BundlingError(
            f"pip could not install {requirements} for {target.label}:\n{result.stderr.strip()[-4000:]}"
        )
    # Console scripts are of no use inside a function, and byte code is compiled by the runtime.
    shutil.rmtree(destination / "bin", ignore_errors=True)
    for cache in list(destination.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def _package_files(package_dir: Path) -> Iterator[Path]:
    for path in package_dir.rglob("*"):
        relative_parts = path.relative_to(package_dir).parts
        if any(part in _SKIPPED_DIRS for part in relative_parts) or path.suffix in _SKIPPED_SUFFIXES:
            continue
        if path.is_file():
            yield path


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _build_once(final_dir: Path, build: Callable[[Path], None]) -> None:
    """Build into a scratch directory and move it into place, so a cache entry is never half-written."""
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final_dir.parent))
    try:
        build(scratch)
        _normalise_modes(scratch)
        try:
            scratch.rename(final_dir)
        except OSError:
            # Another synth finished the same entry first; its copy is identical.
            if not final_dir.is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _prune_siblings(final_dir)


def _normalise_modes(root: Path) -> None:
    """Folders 755 and files 644 whatever the umask was (hard-linked cache files included)."""
    root.chmod(DIRECTORY_MODE)
    for folder, subfolders, files in os.walk(root):
        for name in subfolders:
            os.chmod(os.path.join(folder, name), DIRECTORY_MODE)
        for name in files:
            os.chmod(os.path.join(folder, name), FILE_MODE)


def _prune_siblings(keep: Path) -> None:
    """Drop older entries for the same target, so ``.build`` does not grow with every code change."""
    label = keep.name.rsplit("-", 1)[0]
    for sibling in keep.parent.iterdir():
        if sibling == keep or not sibling.is_dir():
            continue
        stale_scratch = sibling.name.startswith(".tmp-") and (
            time.time() - sibling.stat().st_mtime > _STALE_SCRATCH_SECONDS
        )
        if stale_scratch or sibling.name.rsplit("-", 1)[0] == label:
            shutil.rmtree(sibling, ignore_errors=True)


def _sha256(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        # Length-prefixed, so ("ab", "c") and ("a", "bc") hash differently.
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()
