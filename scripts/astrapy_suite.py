"""``make astrapy-suite``: astrapy's own integration tests, unmodified, against the embedded server.

Why: ``tests/astrapy_suite`` checks the embedded server through astrapy with tests written here; this runs
the tests astrapy's maintainers wrote for their client against a real Data API, so a pass means
``make stargate`` behaves as a local Astra for what astrapy's users do, not only for what was thought of here.

What it does:

- installs the suite's dependencies into ``.build/tools/astrapy-suite`` from the hash lock
  ``scripts/astrapy-suite-requirements.lock`` (``scripts/tools.py``, as ``make scan`` does for checkov);
- downloads astrapy's source distribution (the only place its tests ship), checked against the sha256
  pinned here (``SDIST_SHA256``), cached in ``.build/astrapy-suite/`` and extracted into a fresh folder
  there each run;
- starts the embedded server (``python -m localdev.stargate``) on a free port with an empty, temporary
  data folder (the suite refuses a database that holds anything), answering after 5 ms as a remote
  database would (``ASTRAPY_SUITE_SERVER_ARGS`` replaces ``DEFAULT_SERVER_ARGS``), or uses
  ``ASTRAPY_SUITE_ENDPOINT`` (a self-hosted Data API such as ``http://localhost:8181``;
  ``ASTRAPY_SUITE_USERNAME`` and ``ASTRAPY_SUITE_PASSWORD`` default to cassandra);
- runs ``tests/base/integration`` (or the areas given: ``collections``, ``misc``, ``tables``, or a file
  under it) with the suite's own pytest settings from its ``pyproject.toml`` except ``addopts`` (coverage
  and testdox output, which need plugins the tests do not), each test bounded by pytest-timeout
  (``ASTRAPY_SUITE_TEST_TIMEOUT``, 300 s) and the run by ``ASTRAPY_SUITE_TIMEOUT`` (3600 s), with a
  progress line on stderr now and then (``astrapy_suite_plugin/``); pytest's own output goes to
  ``.build/astrapy-suite/pytest.log``;
- summarises the JUnit XML: passed, failed, errors and skipped per area and, within it, per test file
  (sync and async together); each failure and error on one line; skips grouped by reason. Printed, and
  written to ``.build/astrapy-suite/summary.md`` (and to ``$GITHUB_STEP_SUMMARY`` in GitHub Actions).

Failures are held against ``OUT_OF_SCOPE``: what the embedded server deliberately does not emulate, each
with its reason. The exit status is 0 when every failure and error is one of those, 1 otherwise (those
not covered are listed), or when the run itself broke. Out-of-scope tests that pass are listed too, for
information.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tools import REPO, tool

SDIST_VERSION = "2.3.2"
SDIST = f"astrapy-{SDIST_VERSION}.tar.gz"
# PyPI's sha256 of astrapy-2.3.2.tar.gz (the same hash uv wrote into the lock for astrapy's sdist).
SDIST_SHA256 = "febf5dda5df9ac432ba1754484879545f5dd74c987ec2f14bd2203877bee5ba4"
REQUIREMENTS = REPO / "scripts" / "astrapy-suite-requirements.txt"
LOCK = REPO / "scripts" / "astrapy-suite-requirements.lock"
PLUGIN_DIR = REPO / "scripts" / "astrapy_suite_plugin"
PROGRESS_PREFIX = "astrapy-suite progress:"  # astrapy_suite_plugin/astrapy_suite_progress.py's PREFIX
OUT = REPO / ".build" / "astrapy-suite"
SUITE = "tests/base/integration"
AREAS = ("collections", "misc", "tables")
OUTCOMES = ("passed", "failed", "errors", "skipped")
# The worse outcome wins when pytest reports one test twice (a failure, then an error in its teardown).
RANK = {"passed": 0, "skipped": 1, "errors": 2, "failed": 3}
TEST_TIMEOUT_SECONDS = int(os.environ.get("ASTRAPY_SUITE_TEST_TIMEOUT", "300"))
RUN_TIMEOUT_SECONDS = int(os.environ.get("ASTRAPY_SUITE_TIMEOUT", "3600"))
MESSAGE_WIDTH = 240

# What the embedded server deliberately does not emulate (localdev/stargate/COVERAGE.md): a failure or an
# error of a test whose id matches one of these patterns (re.search, case-insensitive) is expected, for
# the reason given. Test ids look like
# tests/base/integration/collections/test_collection_ddl_sync.py::TestCollectionDDLSync::test_x_sync.
# The suite's timeout tests give astrapy 1 or 2 ms and expect a timeout, which a remote database's
# latency gives them; the embedded server on this machine answers sooner unless it waits as long.
DEFAULT_SERVER_ARGS = "--data-api-latency-ms 5"

OUT_OF_SCOPE: tuple[tuple[str, str], ...] = (
    (
        r"^tests/base/integration/tables/",
        "tables, their indexes and user-defined types: the embedded server emulates collections only",
    ),
    (
        r"vectorize",
        "$vectorize and embedding providers: the embedded server computes no embeddings and has no providers",
    ),
    (
        r"bm25|lexical",
        "lexical search (the lexical option, $lexical, BM25 sorting): not emulated",
    ),
    (
        r"farr|rerank",
        "findAndRerank, reranking options and providers: not emulated",
    ),
    (
        r"::test_collection_lifecycle_(sync|async)$",
        "expects new collections to report lexical search and reranking enabled, as on a database that has "
        "them: the embedded server's database has neither, and its collections report both disabled",
    ),
    (
        r"::test_collection_binencvectors_everywhere_(sync|async)$",
        "binary-encoded vectors pass; the test ends with findAndRerank (reranking), which is not emulated",
    ),
    (
        r"/test_admin_ops_",
        "the DevOps API (Astra's database administration): Astra's control plane, not a Data API",
    ),
)


@dataclass(frozen=True)
class Result:
    """One test of the run, as the JUnit XML tells it."""

    test_id: str  # tests/base/integration/<area>/<file>.py[::<Class>]::<name>, or the file alone
    outcome: str  # one of OUTCOMES
    message: str = ""  # the first line of the failure, error or skip message

    @property
    def file(self) -> str:
        return self.test_id.split("::", 1)[0]

    @property
    def area(self) -> str:
        parts = self.file.removeprefix(SUITE + "/").split("/")
        return parts[0] if len(parts) > 1 else "other"

    @property
    def group(self) -> str:
        """The test file's stem without ``test_``, the area's own prefix, ``_sync`` or ``_async``."""
        stem = Path(self.file).name.removesuffix(".py")
        return re.sub(r"_a?sync$", "", re.sub(r"^test_(collection_|table_)?", "", stem))


def out_of_scope(test_id: str) -> str | None:
    """The reason ``OUT_OF_SCOPE`` gives for this test, if any."""
    return next(
        (reason for pattern, reason in OUT_OF_SCOPE if re.search(pattern, test_id, re.IGNORECASE)), None
    )


def _first_line(text: str | None) -> str:
    line = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return line if len(line) <= MESSAGE_WIDTH else line[: MESSAGE_WIDTH - 1] + "…"


def _test_id(case: ElementTree.Element) -> str:
    """``file::Class::name`` from a testcase's ``file`` (xunit1), ``classname`` and ``name``."""
    classname, name = case.get("classname", ""), case.get("name", "")
    file = case.get("file")
    if not classname:  # a file that could not be collected: name is its dotted module path
        return file or name.replace(".", "/") + ".py"
    dotted = classname.split(".")
    if file:
        module = file.removesuffix(".py").replace("/", ".")
        classes = classname.removeprefix(module).strip(".").split(".") if classname != module else []
    else:  # xunit2 has no file: the module is everything up to the test_ part
        last = max((n for n, part in enumerate(dotted) if part.startswith("test_")), default=len(dotted) - 1)
        file = "/".join(dotted[: last + 1]) + ".py"
        classes = dotted[last + 1 :]
    return "::".join([file, *[part for part in classes if part], name])


def read_junit(path: Path) -> list[Result]:
    """Every test of a pytest JUnit XML file, once each, in the order of the file."""
    # pytest wrote this file on this machine, moments ago: not untrusted XML.
    root = ElementTree.parse(path).getroot()  # noqa: S314
    results: dict[str, Result] = {}
    for case in root.iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "errors"}.get(child.tag, "skipped")
                message = _first_line(child.get("message") or child.text)
                if child.get("type") == "pytest.xfail":
                    message = f"xfail: {message}"
                break
        result = Result(_test_id(case), outcome, message)
        earlier = results.get(result.test_id)
        if earlier is None or RANK[result.outcome] > RANK[earlier.outcome]:
            results[result.test_id] = result
    return list(results.values())


def tally(results: Iterable[Result]) -> dict[str, dict[str, Counter[str]]]:
    """area -> group -> outcome -> count, areas and groups sorted."""
    table: dict[str, dict[str, Counter[str]]] = {}
    for result in sorted(results, key=lambda result: (result.area, result.group)):
        table.setdefault(result.area, {}).setdefault(result.group, Counter())[result.outcome] += 1
    return table


def uncovered(results: Iterable[Result]) -> list[Result]:
    """Failures and errors ``OUT_OF_SCOPE`` does not explain."""
    return [r for r in results if r.outcome in ("failed", "errors") and out_of_scope(r.test_id) is None]


def exit_status(results: Sequence[Result], pytest_status: int | None) -> int:
    """0 when pytest ran tests to the end and every failure or error is out of scope, else 1."""
    if pytest_status not in (0, 1) or not results:
        return 1
    return 1 if uncovered(results) else 0


def _row(name: str, counts: Counter[str]) -> str:
    cells = [str(sum(counts.values())), *(str(counts[outcome]) for outcome in OUTCOMES)]
    return f"| {name} | " + " | ".join(cells) + " |"


def render(results: Sequence[Result], *, heading: str, details: Sequence[str] = ()) -> str:
    """The summary, as Markdown (readable as plain text too)."""
    lines = [f"## {heading}", "", *details, ""] if details else [f"## {heading}", ""]
    lines += [
        "| area | tests | passed | failed | errors | skipped |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    total: Counter[str] = Counter()
    for area, groups in tally(results).items():
        area_counts: Counter[str] = sum(groups.values(), Counter())
        total += area_counts
        lines.append(_row(f"**{area}**", area_counts))
        lines += [_row(f"{area} / {group}", counts) for group, counts in groups.items()]
    lines += [_row("**all**", total), ""]

    failing = [r for r in results if r.outcome in ("failed", "errors")]
    missing = uncovered(results)
    lines += [f"### Failures and errors not covered by OUT_OF_SCOPE ({len(missing)})", ""]
    lines += [f"- `{r.test_id}` ({r.outcome}): {r.message}" for r in missing] or ["None."]
    lines.append("")
    by_reason: dict[str, list[Result]] = {}
    for result in failing:
        reason = out_of_scope(result.test_id)
        if reason is not None:
            by_reason.setdefault(reason, []).append(result)
    lines += [f"### Failures and errors covered by OUT_OF_SCOPE ({len(failing) - len(missing)})", ""]
    for reason, covered in by_reason.items():
        lines += [f"{reason} ({len(covered)}):", ""]
        lines += [f"- `{r.test_id}` ({r.outcome}): {r.message}" for r in covered]
        lines.append("")
    if not by_reason:
        lines += ["None.", ""]

    passing = [r for r in results if r.outcome == "passed" and out_of_scope(r.test_id) is not None]
    lines += [f"### Out-of-scope tests that passed ({len(passing)}; for information)", ""]
    lines += [f"- `{r.test_id}` ({out_of_scope(r.test_id)})" for r in passing] or ["None."]
    lines.append("")

    skips = Counter(r.message or "(no reason given)" for r in results if r.outcome == "skipped")
    lines += [f"### Skipped, by reason ({sum(skips.values())})", ""]
    lines += [f"- {count}: {reason}" for reason, count in skips.most_common()] or ["None."]
    return "\n".join(lines) + "\n"


# --- running ---------------------------------------------------------------------------------------------


def _say(text: str) -> None:
    print(f"astrapy-suite: {text}", file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_pins() -> None:
    """The astrapy under test and the tests run must be the same version."""
    pinned = re.search(r"^astrapy==(\S+)", REQUIREMENTS.read_text(), re.MULTILINE)
    if pinned is None or pinned.group(1) != SDIST_VERSION:
        raise SystemExit(
            f"astrapy-suite: {REQUIREMENTS.relative_to(REPO)} pins astrapy "
            f"{pinned.group(1) if pinned else '(nothing)'}, but the suite run is astrapy {SDIST_VERSION}'s: "
            "change SDIST_VERSION and SDIST_SHA256 in scripts/astrapy_suite.py with the pin"
        )


def sdist(python: Path) -> Path:
    """astrapy's source distribution, from the cache or downloaded by pip, hash-checked either way."""
    cached = OUT / SDIST
    if cached.exists() and _sha256(cached) == SDIST_SHA256:
        return cached
    _say(f"downloading {SDIST} (its tests ship only there), hash-checked")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        requirement = Path(folder) / "sdist-requirement.txt"
        requirement.write_text(f"astrapy=={SDIST_VERSION} --hash=sha256:{SDIST_SHA256}\n")
        # --no-build-isolation: pip prepares the sdist's metadata with the locked hatchling, and installs
        # no unpinned build backend for it.
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "--no-binary",
                ":all:",
                "--no-deps",
                "--no-build-isolation",
                "-d",
                folder,
                "-r",
                str(requirement),
            ],
            check=True,
        )
        downloaded = Path(folder) / SDIST
        if _sha256(downloaded) != SDIST_SHA256:
            raise SystemExit(f"astrapy-suite: {SDIST} does not have the pinned sha256")
        downloaded.replace(cached)
    return cached


def extract(archive: Path) -> Path:
    """A fresh copy of the sdist's files; its folder (``astrapy-<version>``) is returned."""
    target = OUT / "src"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    source = target / f"astrapy-{SDIST_VERSION}"
    if not (source / SUITE).is_dir() or not (source / "pyproject.toml").is_file():
        raise SystemExit(f"astrapy-suite: {archive.name} has no {SUITE} or no pyproject.toml")
    return source


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ready(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/checker/readiness")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _stop(process: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 15) -> None:
    """Stop a process this script started (in a session of its own), and anything it started."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def embedded_server() -> Iterator[str]:
    """``python -m localdev.stargate`` on a free port over an empty data folder; yields its URL."""
    port = _free_port()
    with (
        tempfile.TemporaryDirectory(prefix="astrapy-suite-data-") as data,
        (OUT / "server.log").open("w") as log,
    ):
        command = [sys.executable, "-m", "localdev.stargate", "--port", str(port), "--data-dir", data]
        command += shlex.split(os.environ.get("ASTRAPY_SUITE_SERVER_ARGS", DEFAULT_SERVER_ARGS))
        server = subprocess.Popen(
            command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 60
            while not _ready(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    tail = (OUT / "server.log").read_text()[-2000:]
                    raise SystemExit(f"astrapy-suite: the embedded server did not start:\n{tail}")
                time.sleep(0.2)
            _say(f"embedded server (pid {server.pid}): {' '.join(command[1:])}")
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(server)


def _suite_environment(endpoint: str) -> dict[str, str]:
    """This environment, minus whatever could point the suite elsewhere, plus the local Data API's."""
    keep = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ASTRA_DB_", "LOCAL_", "PYTEST_", "DOCKER_COMPOSE_", "HEADER_"))
        and name not in ("PYTHONPATH", "TOLERATE_POPULATED_DATABASE")
    }
    return {
        **keep,
        "LOCAL_DATA_API_ENDPOINT": endpoint,
        "LOCAL_CASSANDRA_CONTACT_POINT": urlsplit(endpoint).hostname or "127.0.0.1",
        "LOCAL_DATA_API_USERNAME": os.environ.get("ASTRAPY_SUITE_USERNAME", "cassandra"),
        "LOCAL_DATA_API_PASSWORD": os.environ.get("ASTRAPY_SUITE_PASSWORD", "cassandra"),
        "PYTHONPATH": str(PLUGIN_DIR),
        "PYTHONUNBUFFERED": "1",
    }


def run_pytest(
    python: Path, source: Path, targets: Sequence[str], endpoint: str, keyword: str | None
) -> int | None:
    """astrapy's pytest over ``targets``; its exit status, or None if it ran out of time."""
    command = [
        str(python),
        "-m",
        "pytest",
        *targets,
        # The suite's own settings (its pyproject.toml's [tool.pytest.ini_options]: asyncio_mode = "auto",
        # log_cli, filterwarnings), less addopts.
        f"--config-file={source / 'pyproject.toml'}",
        f"--rootdir={source}",
        "-o",
        "addopts=",
        "-o",
        "junit_family=xunit1",  # testcases carry their file
        f"--junitxml={OUT / 'junit.xml'}",
        "-p",
        "no:cacheprovider",
        "-p",
        "astrapy_suite_progress",
        "-q",
        f"--timeout={TEST_TIMEOUT_SECONDS}",
        "--continue-on-collection-errors",
        *(["-k", keyword] if keyword else []),
    ]
    _say(
        f"running {' '.join(targets)} against {endpoint}; "
        f"pytest's output goes to {OUT.relative_to(REPO)}/pytest.log"
    )
    with (OUT / "pytest.log").open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=source,
            env=_suite_environment(endpoint),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _say(f"the run took longer than {RUN_TIMEOUT_SECONDS} s (ASTRAPY_SUITE_TIMEOUT): stopping pytest")
            _stop(process)

        timer = threading.Timer(RUN_TIMEOUT_SECONDS, expire)
        timer.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                if line.startswith(PROGRESS_PREFIX):
                    _say(line.removeprefix(PROGRESS_PREFIX).strip())
            status = process.wait()
        finally:
            timer.cancel()
            _stop(process)
    return None if expired.is_set() else status


def targets_for(source: Path, areas: Sequence[str]) -> list[str]:
    """Paths under the suite for the areas (or files, ``collections/test_collection_dml_sync.py``) given."""
    if not areas:
        return [SUITE]
    targets = []
    for area in areas:
        target = f"{SUITE}/{area.strip().strip('/')}"
        if not (source / target.split("::", 1)[0]).exists():
            raise SystemExit(
                f"astrapy-suite: no {target} in astrapy {SDIST_VERSION}'s suite (areas: {', '.join(AREAS)})"
            )
        targets.append(target)
    return targets


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/astrapy_suite.py", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "areas",
        nargs="*",
        help=f"what to run under {SUITE}: {', '.join(AREAS)}, or a file under one (default: all of it); "
        "commas separate too",
    )
    parser.add_argument("-k", dest="keyword", help="pytest's -k expression, to run fewer tests")
    args = parser.parse_args(argv)
    areas = [area for given in args.areas for area in given.split(",") if area.strip()]

    started = time.monotonic()
    _check_pins()
    python = tool("astrapy-suite", LOCK) / "python"
    source = extract(sdist(python))
    targets = targets_for(source, areas)
    (OUT / "junit.xml").unlink(missing_ok=True)
    given = os.environ.get("ASTRAPY_SUITE_ENDPOINT", "").rstrip("/")
    with contextlib.nullcontext(given) if given else embedded_server() as endpoint:
        status = run_pytest(python, source, targets, endpoint, args.keyword)
    minutes, seconds = divmod(int(time.monotonic() - started), 60)

    junit = OUT / "junit.xml"
    results = read_junit(junit) if junit.exists() else []
    against = given or "the embedded server (python -m localdev.stargate, empty data folder)"
    details = [
        f"astrapy {SDIST_VERSION}'s `{' '.join(targets)}`{f' -k {args.keyword!r}' if args.keyword else ''}, "
        f"unmodified, against {against}: {len(results)} tests in {minutes}m{seconds:02d}s, "
        f"pytest exit status {'(timed out)' if status is None else status}.",
    ]
    summary = render(results, heading=f"astrapy {SDIST_VERSION} integration suite", details=details)
    (OUT / "summary.md").write_text(summary)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with Path(os.environ["GITHUB_STEP_SUMMARY"]).open("a") as step_summary:
            step_summary.write(summary)
    print(summary)
    code = exit_status(results, status)
    if not results:
        why = "the run timed out" if status is None else f"pytest ended with status {status}"
        _say(f"no test results ({why}); the end of {OUT.relative_to(REPO)}/pytest.log:")
        print((OUT / "pytest.log").read_text()[-3000:], file=sys.stderr)
    elif code:
        missing = uncovered(results)
        _say(
            f"{len(missing)} failures or errors are not covered by OUT_OF_SCOPE (listed above)"
            if missing
            else f"pytest did not finish normally (status {status}; see {OUT.relative_to(REPO)}/pytest.log)"
        )
    else:
        _say("every failure and error is out of scope (OUT_OF_SCOPE in scripts/astrapy_suite.py)")
    _say(f"summary in {OUT.relative_to(REPO)}/summary.md; took {minutes}m{seconds:02d}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
