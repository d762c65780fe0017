"""The function's code asset, built on the host without Docker: complete, for arm64, and nothing else."""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from cdk_app import bundling
from cdk_app.bundling import (
    LAMBDA_SOURCE_DIR,
    BuiltAsset,
    BundlingError,
    Target,
    build_function_asset,
    byte_code_compiler,
    zipped_size,
)
from cdk_app.function import LAMBDA_TARGET
from tests.infra.synthesis import REPO_ROOT

pytestmark = pytest.mark.infra

EM_AARCH64 = 183
EM_X86_64 = 62
DEV_TOOLS = {
    "pytest",
    "_pytest",
    "ruff",
    "mypy",
    "boto3_stubs",
    "responses",
    "testcontainers",
    "cfnlint",
    "aws_cdk",
}


@pytest.fixture(scope="module")
def lambda_asset() -> BuiltAsset:
    return build_function_asset(LAMBDA_TARGET)


def _requirement_names(requirements: Path) -> set[str]:
    lines = (line.split("#")[0].strip() for line in requirements.read_text().splitlines())
    return {_normalize(line.split("==")[0]) for line in lines if line}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


def test_asset_holds_the_whole_package_and_byte_code_only_from_the_runtimes_python(
    lambda_asset: BuiltAsset,
) -> None:
    source = LAMBDA_SOURCE_DIR / "orders_api"
    expected = {
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    built = {
        path.relative_to(lambda_asset.path / "orders_api").as_posix()
        for path in (lambda_asset.path / "orders_api").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }

    assert "handler.py" in built
    assert built == expected
    assert not (lambda_asset.path / "bin").exists()
    compiled = {path.name for path in lambda_asset.path.rglob("*.pyc")}
    if byte_code_compiler(LAMBDA_TARGET) is None:
        # This machine has no python3.14: byte code from any other Python would never load in Lambda.
        assert not compiled
    else:
        assert "handler.cpython-314.pyc" in compiled
        assert all(".cpython-314." in name for name in compiled)


def test_asset_holds_exactly_the_pinned_runtime_dependencies(lambda_asset: BuiltAsset) -> None:
    installed = {
        _normalize(path.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        for path in lambda_asset.path.glob("*.dist-info")
    }
    top_level = {path.name for path in lambda_asset.path.iterdir()}

    assert installed == _requirement_names(LAMBDA_SOURCE_DIR / "requirements.txt")
    assert not top_level & DEV_TOOLS
    assert not any(name.startswith(("mypy_boto3", "tests")) for name in top_level)


def test_the_asset_ships_no_aws_sdk_and_fits_its_size_budget(lambda_asset: BuiltAsset) -> None:
    top_level = {path.name for path in lambda_asset.path.iterdir()}

    # Secrets come from the Parameters and Secrets extension, traces go to the X-Ray daemon over UDP:
    # neither the AWS SDK nor the X-Ray SDK is shipped.
    assert not top_level & {"boto3", "botocore", "s3transfer", "aws_xray_sdk", "wrapt"}
    assert zipped_size(lambda_asset.path) <= 7 * 1024 * 1024


def test_the_asset_ships_no_character_detection_library(lambda_asset: BuiltAsset) -> None:
    # requests runs without one (orders_api/startup.py): the function reads only JSON.
    top_level = {path.name for path in lambda_asset.path.iterdir()}

    assert {"requests", "urllib3", "idna", "certifi"} <= top_level
    assert not top_level & {"charset_normalizer", "chardet"}


def test_native_extensions_are_built_for_lambda_on_arm64(lambda_asset: BuiltAsset) -> None:
    [pydantic_core] = lambda_asset.path.glob("pydantic_core/_pydantic_core.cpython-314-*.so")

    assert "aarch64" in pydantic_core.name
    assert _elf_machine(pydantic_core) == EM_AARCH64
    assert all(_elf_machine(so) == EM_AARCH64 for so in lambda_asset.path.rglob("*.so"))


def test_a_rebuild_is_a_cache_hit_and_a_code_change_is_not(lambda_asset: BuiltAsset, tmp_path: Path) -> None:
    # Given a copy of lambda_src whose dependencies are already built in a scratch cache
    source = tmp_path / "lambda_src"
    shutil.copytree(LAMBDA_SOURCE_DIR, source, ignore=shutil.ignore_patterns("__pycache__"))
    build_root = tmp_path / "build"
    deps = lambda_asset.path.parents[1] / "deps"
    shutil.copytree(deps, build_root / "deps", copy_function=os.link)
    first = build_function_asset(LAMBDA_TARGET, source, build_root)

    # When nothing changes, the same directory comes back at once
    started = time.monotonic()
    again = build_function_asset(LAMBDA_TARGET, source, build_root)
    assert (
        again
        == first
        == BuiltAsset(path=build_root / "function" / first.path.name, asset_hash=lambda_asset.asset_hash)
    )
    assert time.monotonic() - started < 2

    # When the code changes, a new asset replaces the old one
    (source / "orders_api" / "handler.py").write_text(
        (source / "orders_api" / "handler.py").read_text() + "\n# changed\n"
    )
    (source / "orders_api" / "__pycache__").mkdir(exist_ok=True)
    (source / "orders_api" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    changed = build_function_asset(LAMBDA_TARGET, source, build_root)
    assert changed.asset_hash != first.asset_hash
    assert (changed.path / "orders_api" / "handler.py").read_text().endswith("# changed\n")
    assert not first.path.exists()
    assert not (changed.path / "orders_api" / "__pycache__" / "handler.cpython-311.pyc").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="the host copy is built with manylinux wheels")
def test_the_same_build_for_this_host_imports_the_handler_with_nothing_else_on_the_path() -> None:
    # The arm64 asset cannot be imported here, so build it again for this machine and import that.
    host = Target(
        pip_platform=f"manylinux2014_{platform.machine()}",
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
    )
    asset = build_function_asset(host)
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(asset.path)!r})\n"
        "import orders_api.handler, pydantic_core\n"
        "print(json.dumps({'handler': callable(orders_api.handler.lambda_handler),"
        " 'pydantic_core': pydantic_core.__file__,"
        " 'site': [p for p in sys.path if 'site-packages' in p]}))\n"
    )
    environment = {
        "PATH": "/usr/bin:/bin",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "x",
        "POWERTOOLS_SERVICE_NAME": "orders",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "STORE_URL": "http://127.0.0.1:1/api/json",
        "STORE_NAMESPACE": "test",
        "STORE_COLLECTION": "orders",
        "STORE_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf",
    }

    # -I: ignore PYTHON* variables and the user site; -S: no site-packages, so only the asset can answer.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    assert imported["handler"] is True
    assert imported["pydantic_core"].startswith(str(asset.path))
    assert imported["site"] == []
    [so] = Path(imported["pydantic_core"]).parent.glob("_pydantic_core*.so")
    assert _elf_machine(so) == (EM_X86_64 if platform.machine() == "x86_64" else EM_AARCH64)


def _modes(root: Path) -> dict[str, set[int]]:
    modes: dict[str, set[int]] = {"dirs": set(), "files": set()}
    for path in root.rglob("*"):
        modes["dirs" if path.is_dir() else "files"].add(path.stat().st_mode & 0o777)
    return modes


def test_every_file_of_the_asset_is_readable_by_the_lambda_runtime(lambda_asset: BuiltAsset) -> None:
    assert _modes(lambda_asset.path) == {"dirs": {0o755}, "files": {0o644}}


def test_an_asset_built_under_a_strict_umask_is_still_readable(tmp_path: Path) -> None:
    # Given a small function and one pinned wheel, built while the umask is 077
    source = tmp_path / "src"
    (source / "orders_api").mkdir(parents=True)
    (source / "orders_api" / "handler.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    (source / "requirements.txt").write_text("six==1.17.0\n")
    previous = os.umask(0o077)
    try:
        asset = build_function_asset(LAMBDA_TARGET, source, tmp_path / "build")
    finally:
        os.umask(previous)

    # Then the CDK CLI would zip folders 755 and files 644, which Lambda's user can read
    assert (asset.path / "six.py").is_file()
    assert _modes(asset.path) == {"dirs": {0o755}, "files": {0o644}}
    assert asset.path.stat().st_mode & 0o777 == 0o755


def test_the_pre_traffic_hook_asset_is_readable_and_holds_only_its_source(tmp_path: Path) -> None:
    from cdk_app.bundling import build_source_asset
    from cdk_app.release import HOOK_SOURCE

    (HOOK_SOURCE / "__pycache__").mkdir(exist_ok=True)  # as a test importing the hook leaves behind
    previous = os.umask(0o077)
    try:
        asset = build_source_asset(HOOK_SOURCE, "hook", tmp_path)
    finally:
        os.umask(previous)

    assert sorted(path.name for path in asset.path.rglob("*")) == ["pre_traffic.py"]
    assert _modes(asset.path) == {"dirs": set(), "files": {0o644}}


def test_with_an_interpreter_of_the_targets_version_every_module_gets_hash_based_byte_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an interpreter of the target's version on the PATH (here: this one, as python<major.minor>)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / f"python{version}").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    target = Target(pip_platform="manylinux2014_x86_64", python_version=version)
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "module.py").write_text("ANSWER = 42\n")

    # When the directory is compiled as an asset would be
    byte_code_compiler.cache_clear()  # looked up once per process
    compiler = byte_code_compiler(target)
    assert compiler is not None
    compiler.compile(tmp_path / "src")

    # Then the module has byte code that never checks timestamps, so it loads from a read-only directory
    [compiled] = (package / "__pycache__").glob("module.*.pyc")
    flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, unchecked


def test_without_an_interpreter_of_the_targets_version_there_is_no_byte_code_and_the_note_names_the_fix(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BYTE_CODE_FROM", "path,uv,docker")
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent.parent / "no-such-bin"))  # no uv, no docker
    byte_code_compiler.cache_clear()  # looked up once per process

    assert byte_code_compiler(Target(pip_platform="manylinux2014_aarch64", python_version="3.99")) is None

    note = capsys.readouterr().err
    assert (
        "no CPython 3.99 to compile the function's byte code (no python3.99 on the PATH; no uv; no Docker)"
        in note
    )
    assert "about 4x the cold path" in note
    assert "`.venv/bin/uv python install 3.99`" in note


@pytest.mark.parametrize(
    ("version", "script", "why"),
    [
        # pyenv's shim of a version installed but not selected
        (
            "3.98",
            "#!/bin/sh\necho 'pyenv: python3.98: command not found' >&2\nexit 127\n",
            "did not run (exit code 127)",
        ),
        ("3.97", "#!/bin/sh\necho 3.10.4\n", "is Python 3.10.4"),  # another version under that name
    ],
)
def test_an_interpreter_that_does_not_run_as_the_targets_version_counts_as_none(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    version: str,
    script: str,
    why: str,
) -> None:
    # Given a python3.9x on the PATH that is not a working Python 3.9x (as a pyenv shim can be)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / f"python{version}"
    fake.write_text(script)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    # Then the asset is built without byte code, with a note saying why, instead of failing the synth
    byte_code_compiler.cache_clear()  # looked up once per process
    assert byte_code_compiler(Target(pip_platform="manylinux2014_x86_64", python_version=version)) is None
    assert f"({fake} {why}): the function asset carries no byte code" in capsys.readouterr().err


def stand_in(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(script)
    path.chmod(0o755)
    return path


def tiny_package(root: Path) -> Path:
    package = root / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "module.py").write_text("ANSWER = 42\n")
    return package


def test_uv_fetches_a_cpython_of_the_targets_version_once_and_compiles_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no python3.96 on the PATH, and a uv that has none until asked to install it (a stand-in:
    # the real one downloads from GitHub, which this machine cannot reach)
    bin_dir, installed = tmp_path / "bin", tmp_path / "uv-python" / "python3.96"
    staged = stand_in(
        tmp_path / "download",
        "python3.96",
        f'#!/bin/sh\nif [ "$1" = "-c" ]; then echo 3.96.4; exit 0; fi\nexec {sys.executable} "$@"\n',
    )
    stand_in(
        bin_dir,
        "uv",
        "#!/bin/sh\nPATH=/usr/bin:/bin\n"
        f'echo "$@" >> {tmp_path / "uv-calls"}\n'
        f'if [ "$2" = install ]; then mkdir -p {installed.parent}; cp {staged} {installed}; exit 0; fi\n'
        f"if [ -x {installed} ]; then echo {installed}; exit 0; fi\nexit 2\n",
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("BYTE_CODE_FROM", "path,uv,docker")
    monkeypatch.delenv("UV_PYTHON_DOWNLOADS")
    byte_code_compiler.cache_clear()

    # When the asset's byte code compiler is looked for
    compiler = byte_code_compiler(Target(pip_platform="manylinux2014_aarch64", python_version="3.96"))

    # Then uv fetched one, said so, and it compiles
    assert compiler is not None
    assert (compiler.executable, compiler.version) == (str(installed), "3.96.4")
    assert (tmp_path / "uv-calls").read_text().splitlines() == [
        "python find 3.96",
        "python install 3.96",
        "python find 3.96",
    ]
    err = capsys.readouterr().err
    assert "fetching CPython 3.96 with uv, once" in err
    assert f"byte code is compiled by {installed} (Python 3.96.4)" in err
    package = tiny_package(tmp_path)
    compiler.compile(package.parent)
    assert list((package / "__pycache__").glob("module.*.pyc"))


def test_uv_is_not_asked_to_download_where_downloads_are_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in(tmp_path / "bin", "uv", f'#!/bin/sh\necho "$@" >> {tmp_path / "uv-calls"}\nexit 2\n')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("BYTE_CODE_FROM", "uv")
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    byte_code_compiler.cache_clear()

    assert byte_code_compiler(Target(pip_platform="manylinux2014_aarch64", python_version="3.96")) is None
    assert (tmp_path / "uv-calls").read_text().splitlines() == ["python find 3.96"]


def test_with_a_docker_engine_lambdas_build_image_compiles_the_byte_code_as_this_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given only a Docker engine (a stand-in that runs "the image's python3" as this Python, mounts
    # included, and records how it was called)
    stand_in(
        tmp_path / "bin",
        "docker",
        f"#!{sys.executable}\n"
        "import json, subprocess, sys\n"
        f"open({str(tmp_path / 'docker-calls')!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "args = sys.argv[1:]\n"
        "if args[0] == 'info': sys.exit(0)\n"
        "if '-c' in args: print('3.96.5'); sys.exit(0)\n"
        "host = args[args.index('-v') + 1].split(':')[0]\n"
        "rest = args[args.index('python3') + 1:]\n"
        f"sys.exit(subprocess.call([{sys.executable!r}, *[host if a == '/asset' else a for a in rest]]))\n",
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("BYTE_CODE_FROM", "path,uv,docker")
    byte_code_compiler.cache_clear()

    compiler = byte_code_compiler(Target(pip_platform="manylinux2014_aarch64", python_version="3.96"))
    assert compiler is not None
    assert (compiler.image, compiler.version) == ("public.ecr.aws/sam/build-python3.96", "3.96.5")
    package = tiny_package(tmp_path)
    compiler.compile(package.parent)

    assert list((package / "__pycache__").glob("module.*.pyc"))
    calls = [json.loads(line) for line in (tmp_path / "docker-calls").read_text().splitlines()]
    compile_call = calls[-1]
    assert compile_call[:5] == ["run", "--rm", "--user", f"{os.getuid()}:{os.getgid()}", "-v"]
    assert compile_call[5] == f"{package.parent.resolve()}:/asset"
    assert compile_call[-1] == "/asset"
    assert "unchecked-hash" in compile_call


def test_a_stage_that_requires_byte_code_stops_without_an_interpreter_naming_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundling, "byte_code_compiler", lambda target: None)

    with pytest.raises(BundlingError) as raised:
        build_function_asset(LAMBDA_TARGET, build_root=tmp_path, require_byte_code=True)

    message = str(raised.value)
    assert "no CPython 3.14 to compile the function's byte code" in message
    assert "uv python install 3.14" in message
    assert "deploy with -c byteCode=optional" in message


@pytest.mark.skipif(
    byte_code_compiler(LAMBDA_TARGET) is None,
    reason="no python3.14 on this machine's PATH; the GitHub CI job `lint, test, synth` installs one",
)
def test_the_assets_byte_code_is_for_the_runtimes_python(lambda_asset: BuiltAsset) -> None:
    compiler = byte_code_compiler(LAMBDA_TARGET)
    assert compiler is not None
    magic = subprocess.run(
        [compiler.executable, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    for compiled in lambda_asset.path.rglob("*.pyc"):
        assert compiled.read_bytes()[:4].hex() == magic, compiled


def zipped_as_the_cdk_cli_does(directory: Path) -> bytes:
    """``directory`` zipped the way the CDK CLI zips a code asset: files in sorted order, each with its
    mode and the fixed date 1980-01-01, deflated. Two trees give the same bytes iff their file names,
    contents and modes are the same."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (path.stat().st_mode & 0o7777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def test_two_clones_built_under_another_umask_and_time_zone_give_the_same_asset_zip(tmp_path: Path) -> None:
    # Given the function's source in two folders of their own, as two clean clones would have it
    built: list[bytes] = []
    for name, umask, zone in (("one", "022", "UTC"), ("two", "077", "Pacific/Kiritimati")):
        clone = tmp_path / name / "lambda_src"
        shutil.copytree(LAMBDA_SOURCE_DIR, clone, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        build_root = tmp_path / name / "build"
        # When each is built in a process of its own, under that umask and time zone
        script = (
            "from pathlib import Path; "
            "from cdk_app.bundling import build_function_asset; from cdk_app.function import LAMBDA_TARGET; "
            f"asset = build_function_asset(LAMBDA_TARGET, Path({str(clone)!r}), Path({str(build_root)!r})); "
            "print(asset.path)"
        )
        result = subprocess.run(
            ["sh", "-c", f'umask {umask}; exec "$0" -c "$1"', sys.executable, script],
            cwd=REPO_ROOT,
            env={**os.environ, "TZ": zone, "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{LAMBDA_SOURCE_DIR}"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        built.append(zipped_as_the_cdk_cli_does(Path(result.stdout.strip().splitlines()[-1])))

    # Then the zips the CDK CLI would upload are byte for byte the same
    first, second = (hashlib.sha256(data).hexdigest() for data in built)
    assert first == second
