"""Builds the function's code asset on the host, without Docker.

pip installs the pinned runtime closure as wheels built for the target platform, from its lock
(``lambda_src/requirements.lock``: every wheel's sha256, checked with ``--require-hashes``; ``make
lock`` writes it from ``lambda_src/requirements.txt``; a tree without one, an old commit for ``make
bench --against``, installs from the pins alone), then the ``orders_api`` package is copied beside
it. Both steps are cached under ``.build/`` by a hash of their inputs, so a repeated synth reuses
the directory and a code change only re-copies the package (the dependencies are hard-linked). The
same hash is the CDK asset hash, so CDK does not fingerprint the directory again and the template
stays the same across machines.

Byte code: Lambda's code directory is read-only, so without ``__pycache__`` in the asset every cold
start compiles every module it imports (``make bench`` shows what that costs: about 4x the cold path).
Byte code only loads in the exact Python version it was made by, so it is compiled, with hash-based
invalidation (no timestamps: the same sources give the same files), by the first CPython of the
runtime's version found:

1. ``python3.14`` on the PATH (the GitHub deploy workflow installs one);
2. one uv manages (``uv python find 3.14``; uv comes with ``make install``), fetched with
   ``uv python install 3.14`` the first time, unless ``UV_PYTHON_DOWNLOADS=never``;
3. Lambda's own build image, ``public.ecr.aws/sam/build-python3.14``, where a Docker engine answers.

``BYTE_CODE_FROM`` (``path,uv,docker`` by default) narrows where to look; the tests keep to the PATH.

Without any, the asset has none: the synth says so and names the fix, and a stage that requires byte
code (``byteCode=required``, prod's setting) stops there.

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
from collections.abc import Callable, Iterator, Mapping
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
    target: Target,
    source_dir: Path = LAMBDA_SOURCE_DIR,
    build_root: Path = BUILD_ROOT,
    *,
    require_byte_code: bool = False,
) -> BuiltAsset:
    """Return the asset directory for ``target``, building it only if its inputs changed; BundlingError
    when ``require_byte_code`` and no interpreter of the target's version can compile it."""
    package_dir = source_dir / PACKAGE_NAME
    lock = source_dir / "requirements.lock"
    requirements = lock if lock.is_file() else source_dir / "requirements.txt"
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
    if compiler is None and require_byte_code:
        raise BundlingError(
            f"{no_byte_code_reason(target)}; or, to ship source only, deploy with -c byteCode=optional"
        )
    asset_hash = _sha256(
        deps_hash, f"byte code: {compiler.version if compiler else 'none'}", *_contents(files, source_dir)
    )
    asset_dir = build_root / "function" / f"{target.label}-{asset_hash[:16]}"
    if not asset_dir.is_dir():

        def assemble(tmp: Path) -> None:
            # Hard links: the dependencies are never modified, so the asset shares them with the cache.
            shutil.copytree(deps_dir, tmp, dirs_exist_ok=True, copy_function=_link_or_copy)
            _copy_to([(path.relative_to(source_dir).as_posix(), path) for path in files], tmp)
            if compiler is not None:
                compiler.compile(tmp)

        _build_once(asset_dir, assemble)
    return BuiltAsset(path=asset_dir, asset_hash=asset_hash)


@dataclass(frozen=True)
class ByteCodeCompiler:
    """An interpreter of the target's Python version, which compiles a directory's modules: a local
    ``executable``, or ``python3`` inside the container ``image`` (``executable`` is then docker)."""

    executable: str
    version: str
    image: str | None = None

    def compile(self, directory: Path) -> None:
        """Write ``__pycache__`` for every module below ``directory``, hash-based (no timestamps)."""
        options = ["-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
        if self.image is None:
            command = [self.executable, *options, str(directory)]
        else:
            # The files stay this user's; byte code does not depend on the container's architecture.
            owner = f"{os.getuid()}:{os.getgid()}"
            mount = f"{directory.resolve()}:/asset"
            command = [self.executable, "run", "--rm", "--user", owner, "-v", mount, self.image, "python3"]
            command += [*options, "/asset"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our command
        if result.returncode != 0:
            raise BundlingError(f"compileall with {self.label} failed:\n{result.stdout}{result.stderr}")

    @property
    def label(self) -> str:
        return (
            f"Python {self.version} in {self.image}"
            if self.image
            else f"{self.executable} (Python {self.version})"
        )


# Lambda's build image of the runtime: where no interpreter of its version is at hand but Docker is.
BUILD_IMAGE: Final = "public.ecr.aws/sam/build-python{version}"
NO_BYTE_CODE_FIX: Final = (
    "To ship byte code, give the deploy host a CPython {version}: `.venv/bin/uv python install {version}` "
    "(uv comes with make install), your system's python{version} package, or a running Docker engine"
)


@functools.cache
def byte_code_compiler(target: Target) -> ByteCodeCompiler | None:
    """The first CPython of the target's version found (the PATH, uv, Docker), or None, with a note
    saying what was tried and how to give the host one. Looked up once per process: every synth asks for
    each asset, and each answer asked an interpreter."""
    reasons: list[str] = []
    sources = [source.strip() for source in os.environ.get("BYTE_CODE_FROM", "path,uv,docker").split(",")]
    finders = {"path": _on_the_path, "uv": _managed_by_uv, "docker": _in_the_build_image}
    for find in (finders[source] for source in sources if source in finders):
        compiler, why = find(target)
        if compiler is not None:
            if find is not _on_the_path:
                print(f"note: the function's byte code is compiled by {compiler.label}", file=sys.stderr)
            return compiler
        reasons.append(why)
    print(f"note: {no_byte_code_reason(target, reasons)}", file=sys.stderr)
    return None


def no_byte_code_reason(target: Target, reasons: list[str] | None = None) -> str:
    """Why the asset carries no byte code, what that costs, and how to fix it."""
    tried = f" ({'; '.join(reasons)})" if reasons else ""
    return (
        f"no CPython {target.python_version} to compile the function's byte code{tried}: the function "
        "asset carries no byte code, so each cold start compiles the modules it imports (make bench: about "
        f"4x the cold path). {NO_BYTE_CODE_FIX.format(version=target.python_version)}"
    )


def _on_the_path(target: Target) -> tuple[ByteCodeCompiler | None, str]:
    """``python<major.minor>`` from the PATH; a command of that name that does not run, or runs another
    version (a pyenv shim for a version installed but not selected exits 127), counts as none."""
    wanted = f"python{target.python_version}"
    executable = shutil.which(wanted)
    if executable is None:
        return None, f"no {wanted} on the PATH"
    return _if_of_the_version(executable, target, executable)


def _if_of_the_version(executable: str, target: Target, named: str) -> tuple[ByteCodeCompiler | None, str]:
    """A compiler of ``executable`` if it runs as the target's version; else None, and why (``named``)."""
    version, failure = _version_of(executable)
    if version.startswith(f"{target.python_version}."):
        return ByteCodeCompiler(executable, version), ""
    return None, f"{named} {failure or f'is Python {version}'}"


def _managed_by_uv(target: Target) -> tuple[ByteCodeCompiler | None, str]:
    """A CPython of the target's version that uv finds, fetched with uv once if downloads are allowed."""
    uv = shutil.which("uv")
    if uv is None:
        return None, "no uv"
    found = _uv(uv, "python", "find", target.python_version) or None
    if found is None and os.environ.get("UV_PYTHON_DOWNLOADS", "").lower() not in ("never", "manual"):
        print(f"note: fetching CPython {target.python_version} with uv, once (uv keeps it)", file=sys.stderr)
        if _uv(uv, "python", "install", target.python_version, timeout=600) is not None:
            found = _uv(uv, "python", "find", target.python_version) or None
    if found is None:
        return None, f"uv has no CPython {target.python_version} and could not fetch one"
    return _if_of_the_version(found, target, f"uv's {found}")


def _uv(uv: str, *arguments: str, timeout: float = 60) -> str | None:
    """uv's answer (the last line it printed, "" for none), or None when it failed."""
    try:
        result = _run([uv, *arguments], timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    lines = result.stdout.strip().splitlines()
    return lines[-1].strip() if lines else ""


def _in_the_build_image(target: Target) -> tuple[ByteCodeCompiler | None, str]:
    """Lambda's build image of the runtime, where a Docker engine answers (pulled on first use)."""
    docker = shutil.which("docker")
    if docker is None:
        return None, "no Docker"
    image = BUILD_IMAGE.format(version=target.python_version)
    try:
        if _run([docker, "info"], 20).returncode != 0:
            return None, "no Docker engine answers"
        result = _run(
            [docker, "run", "--rm", image, "python3", "-c", "import sys; print(sys.version.split()[0])"], 900
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"Docker did not answer ({type(error).__name__})"
    version = result.stdout.strip()
    if result.returncode != 0 or not version.startswith(f"{target.python_version}."):
        return None, f"{image} could not be run (exit code {result.returncode})"
    return ByteCodeCompiler(docker, version, image=image), ""


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)  # noqa: S603 - our own commands, no shell


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
    return build_files_asset(
        {path.relative_to(source_dir).as_posix(): path for path in files}, name, build_root
    )


def build_files_asset(files: Mapping[str, Path], name: str, build_root: Path = BUILD_ROOT) -> BuiltAsset:
    """An asset of the given files (path in the asset -> file on disk), with normalised modes."""
    ordered = sorted(files.items())
    asset_hash = _sha256(
        _BUILD_FORMAT, *(part for place, path in ordered for part in (place, path.read_bytes()))
    )
    asset_dir = build_root / "source" / f"{name}-{asset_hash[:16]}"
    if not asset_dir.is_dir():
        _build_once(asset_dir, lambda tmp: _copy_to(ordered, tmp))
    return BuiltAsset(path=asset_dir, asset_hash=asset_hash)


def _contents(files: list[Path], root: Path) -> Iterator[str | bytes]:
    """What an asset's hash covers of ``files``: each one's path below ``root`` and its bytes."""
    for path in files:
        yield path.relative_to(root).as_posix()
        yield path.read_bytes()


def _copy_to(files: list[tuple[str, Path]], destination_root: Path) -> None:
    for place, path in files:
        destination = destination_root / place
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
        *(["--require-hashes"] if requirements.suffix == ".lock" else []),
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
