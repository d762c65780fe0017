"""``make bench``: the project's handler beside the textbook handler (``bench/textbook.py``), as ratios.

Both answer ``GET /orders/<id>`` against the same instant stand-in (``bench/standin.py``: store,
Secrets Manager and the Parameters and Secrets extension) in a Lambda-like environment: the handler's
settings as the stack sets them, a sampled trace header and an X-Ray daemon address (a local UDP
socket) where tracing is on. For each store API and tracing on and off:

- **cold path**: a fresh interpreter imports the handler and answers the first request (Lambda's init
  plus the first invoke: store connection and secret read included); medians of ``--runs`` runs,
  interleaved so that machine noise hits every case alike; the ratios are project / textbook, of the
  wall-clock time and of the probe process's CPU time (which time stolen by other work on a busy or
  virtual machine does not inflate).
- **warm GET**: per-call time of the handler after a warm-up, as a ratio to the same store request
  sent with a bare ``requests.Session`` in the same process (as it comes, and the cheapest: without
  requests' per-request environment look-ups), interleaved in blocks; each invocation gets its own
  trace header, as in Lambda.

Each handler runs as it would be deployed (``bench/closures.py``): with ``python -S`` and only its own
packages, the project from its function asset (built for this machine, with byte code) and the
textbook from the pinned closure of ``bench/textbook-requirements.txt``; never from the development
virtualenv, whose test tools change what the libraries do at start-up.

Then two floors (``bench/floor.py``: the libraries both handlers are built on, imported alone, as a
handler imports them and with the project's start-up measures; the latter is a lower bound for the
project's cold path), the function's asset, zipped as the CDK CLI ships it, and what the stand-in
saw: TCP connections and secret reads (one connection for all warm requests; one secret read per
cache age).

    .venv/bin/python bench/run.py [--runs 7] [--calls 300] [--blocks 15] [--against COMMIT] [--instructions]
                                  [--python EXECUTABLE]

``--against COMMIT`` adds the cold path of the function as it was at an earlier commit (its
``lambda_src`` from git, built into an asset the same way), in the same interleaved runs. ``--instructions``
adds every cold path counted in machine instructions (``bench/instructions.py``: valgrind), a figure
that machine noise does not move. ``--python`` runs every probe with another interpreter (closures built
for its version), such as Lambda's ``python3.14``.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "lambda_src"), str(REPO)]

import closures  # noqa: E402 - bench/closures.py, beside this script
import instructions  # noqa: E402 - bench/instructions.py

from orders_api import names  # noqa: E402
from orders_api.identity import caller_of  # noqa: E402
from orders_api.models import OrderStatus, StoredOrder  # noqa: E402

HANDLERS = ("project", "textbook")
STORE_APIS = ("data", "documents")
STORE_TOKEN = "AstraCS:bench-token"  # noqa: S105 - the stand-in's made-up token
SESSION_TOKEN = "bench-session-token"  # noqa: S105 - a made-up AWS session token
TRACE_HEADER = "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


def order_document(owner: str) -> dict[str, Any]:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    order = StoredOrder(
        orderId=uuid.UUID("0b7c6f9e-2a55-4c1e-9d3a-1f0e8c9b7a66"),
        productName="Tea",
        productQuantity=2,
        productPrice=450,
        status=OrderStatus.PENDING,
        createdAt=now,
        updatedAt=now,
        owner=owner,
    )
    return order.to_document()


def get_event(order_id: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((REPO / "tests" / "unit" / "events" / "http_api_v2.json").read_text())
    event = copy.deepcopy(event)
    path = f"/orders/{order_id}"
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /orders/{orderId}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = "GET"
    event["pathParameters"] = {"orderId": order_id}
    event.pop("body", None)
    for header in ("content-type", "content-length"):
        event["headers"].pop(header, None)
    return event


@contextmanager
def stand_in(document: dict[str, Any]) -> Iterator[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(document, file)
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "bench" / "standin.py"),
            "--document-file",
            file.name,
            "--token",
            STORE_TOKEN,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        os.unlink(file.name)


def environment(
    origin: str, store_api: str, tracing: bool, daemon_port: int, event: dict[str, Any]
) -> dict[str, str]:
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "POWERTOOLS_", "STARGATE_", "STORE_"))
    }
    env = {
        **inherited,
        # As Lambda and the stack set them
        "AWS_LAMBDA_FUNCTION_NAME": "orders-bench",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "ASIABENCH",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        names.POWERTOOLS_SERVICE_NAME: names.SERVICE_NAME,
        names.POWERTOOLS_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
        names.POWERTOOLS_LOG_LEVEL: "INFO",
        names.ORDERS_STORE_API: store_api,
        names.ORDERS_API_AUTH: "iam",
        names.STORE_URL: f"{origin}/api/json" if store_api == names.DATA_API else origin,
        names.STORE_NAMESPACE: "shop",
        names.STORE_COLLECTION: names.DEFAULT_COLLECTION,
        names.STORE_SECRET_ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-AbCdEf",
        names.SECRET_MAX_AGE_SECONDS: str(names.DEFAULT_SECRET_MAX_AGE),
        # Where the two handlers read the secret: the extension's stand-in, or "Secrets Manager" for boto3
        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": origin.rsplit(":", 1)[1],
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": origin,
        # Tracing as deployed: a sampled invocation and an X-Ray daemon (a UDP socket nobody reads)
        "_X_AMZN_TRACE_ID": TRACE_HEADER,
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon_port}",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "BENCH_EVENT": json.dumps(event),
        "BENCH_ORDER_ID": event["pathParameters"]["orderId"],
        "BENCH_STORE_TOKEN": STORE_TOKEN,
    }
    if not tracing:
        env[names.POWERTOOLS_TRACE_DISABLED] = "true"
    return env


# The project's cold path in steps, for --instructions, each adding its modules to the steps before:
# bench/floor.py's stages but its last (a probe each), the lean floor, the project's import, its first
# answer. Keyed like the cold probes' third part.
FLOOR_STEPS = (
    ("requests", "requests, and a Session"),
    ("pydantic", "+ pydantic, and one model"),
    ("logger and metrics", "+ Powertools' Logger and Metrics"),
)


def floor_up_to(stage: str) -> str:
    """The key of the lean floor's probe that stops after ``stage``."""
    return f"floor up to {stage}"


ANATOMY = (
    *((floor_up_to(stage), title) for stage, title in FLOOR_STEPS),
    ("lean floor", "+ Powertools' HTTP resolver with validation (the lean floor)"),
    ("project import", "+ the project's own modules (the handler imported)"),
    ("project", "+ the first GET answered (secret read, store call, routing)"),
)

# What the stack sets for the project's function beyond the settings both handlers read.
PROJECT_ONLY = {names.PYDANTIC_DISABLE_PLUGINS: names.NO_PYDANTIC_PLUGINS}


def other_tree(commit: str, directory: Path) -> dict[str, str]:
    """The function as it was at ``commit``: its ``lambda_src`` from git, unpacked below ``directory``
    and built into an asset as the current one is; the settings that make a probe run it (``--against``)."""
    git = shutil.which("git")
    if git is None:
        raise SystemExit("--against needs git on the PATH")
    archive = subprocess.run(
        [git, "archive", "--format=tar", commit, "lambda_src"], cwd=REPO, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"--against {commit}: {archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
            tar.extractall(directory, filter="data")
        else:  # our own commit's files, from git: nothing to filter out
            tar.extractall(directory)  # noqa: S202
    return closures.runs_from(closures.project(directory / "lambda_src", name="against"))


def probe(mode: str, handler: str, env: dict[str, str], *extra: str) -> dict[str, float]:
    output = subprocess.run(
        closures.probe_command(mode, handler, *extra),
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if output.returncode != 0:
        raise SystemExit(f"{handler} ({mode}) failed:\n{output.stderr[-3000:]}{output.stdout[-1000:]}")
    line = next(line for line in reversed(output.stdout.splitlines()) if line.startswith("BENCH "))
    result: dict[str, float] = json.loads(line.removeprefix("BENCH "))
    return result


def stats(origin: str) -> dict[str, int]:
    answer: dict[str, int] = requests.get(f"{origin}/_stats", timeout=5).json()
    return answer


def asset_megabytes() -> float:
    from cdk_app.bundling import build_function_asset, zipped_size
    from cdk_app.function import LAMBDA_TARGET

    return zipped_size(build_function_asset(LAMBDA_TARGET).path) / 1024 / 1024


def compile_byte_code() -> None:
    """Write byte code for the modules of ``bench/`` (the textbook handler, the probe, the floor).

    The project runs from its asset, which carries byte code as the deployed one does, and the
    textbook's libraries are compiled when installed (``bench/closures.py``); but the textbook's own
    module is read from source here. Compiled by the probes' interpreter (``--python``). Where
    ``PYTHONDONTWRITEBYTECODE`` is set (as on some CI machines) every cold run would compile it again.
    Timestamp-checked ``__pycache__`` files, as Python writes them itself: an edit is never hidden by a
    stale file.
    """
    closures.compile_tree(REPO / "bench")


def progress(step: str) -> None:
    """What the bench is doing, on stderr, so a run of minutes is never silent (the figures go to stdout)."""
    print(f"bench: {step}...", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="cold starts per case (default 7)")
    parser.add_argument("--calls", type=int, default=300, help="calls per warm block (default 300)")
    parser.add_argument("--blocks", type=int, default=15, help="warm blocks per case (default 15)")
    parser.add_argument(
        "--against",
        metavar="COMMIT",
        help="also the cold path of the function as it was at COMMIT (data API), as a ratio to the textbook",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each cold path's instructions with valgrind (deterministic; about three minutes)",
    )
    parser.add_argument(
        "--python",
        metavar="EXECUTABLE",
        help="run every probe with this interpreter (e.g. Lambda's python3.14), not the bench's own",
    )
    options = parser.parse_args()
    closures.require_linux()
    if options.python is not None:
        closures.use(options.python)
    if options.instructions:
        instructions.valgrind()  # missing: say so now, not after the timed runs

    progress("compiling the function's byte code and starting the stand-in store")
    compile_byte_code()
    event = get_event("0b7c6f9e-2a55-4c1e-9d3a-1f0e8c9b7a66")
    from orders_api.identity import admin_principals

    owner = caller_of(event, "iam", admin_principals()).id
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    cases = [(api, tracing) for api in STORE_APIS for tracing in (True, False)]
    cold: dict[tuple[str, bool, str], list[float]] = {}
    cold_cpu: dict[tuple[str, bool, str], list[float]] = {}  # the probe process's CPU time
    warm: dict[tuple[str, bool, str], dict[str, float]] = {}
    seen: dict[str, int] = {}
    closure = {
        "project": closures.runs_from(closures.project(REPO / "lambda_src")),
        "textbook": closures.runs_from(closures.textbook()),
    }
    with stand_in(order_document(owner)) as origin, tempfile.TemporaryDirectory() as scratch:
        envs = {case: environment(origin, case[0], case[1], daemon.getsockname()[1], event) for case in cases}
        handler_envs = {
            (case, handler): {
                **envs[case],
                **closure[handler],
                **(PROJECT_ONLY if handler == "project" else {}),
            }
            for case in cases
            for handler in HANDLERS
        }
        # Lambda's code directory is read-only: without byte code in the asset, every module is
        # compiled at every cold start. An empty cache prefix makes this interpreter do the same.
        no_byte_code = {
            **handler_envs[(("data", True), "project")],
            "PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="bench-no-pycache-"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        # The floors import the libraries of the project's closure, the one they are a floor of.
        floors = {
            "floor": {**envs[("data", False)], **closure["project"], "BENCH_FLOOR": "usual"},
            "lean floor": {
                **envs[("data", False)],
                **closure["project"],
                "BENCH_FLOOR": "lean",
                **PROJECT_ONLY,
            },
        }
        # The other tree runs with the settings both handlers read; what its own stack added is unknown.
        against = None if options.against is None else other_tree(options.against, Path(scratch))
        # Every cold probe, in the order the runs interleave them: key -> (what it imports, settings).
        cold_probes: dict[tuple[str, bool, str], tuple[str, dict[str, str]]] = {
            (api, tracing, handler): (handler, handler_envs[((api, tracing), handler)])
            for api, tracing in cases
            for handler in HANDLERS
        }
        cold_probes.update({("data", False, floor): ("floor", env) for floor, env in floors.items()})
        if against is not None:
            cold_probes.update(
                {
                    ("data", tracing, "against"): ("project", {**envs[("data", tracing)], **against})
                    for tracing in (True, False)
                }
            )
        counted_probes = dict(cold_probes)  # the instruction counts leave out the one without byte code
        # Counted only: the project's cold path built up step by step, each step a probe (print_anatomy).
        counted_probes.update(
            {
                ("data", False, floor_up_to(stage)): (
                    "floor",
                    {**floors["lean floor"], "BENCH_FLOOR_UPTO": stage},
                )
                for stage, _ in FLOOR_STEPS
            }
        )
        counted_probes[("data", False, "project import")] = (
            "project-import",
            handler_envs[(("data", False), "project")],
        )
        cold_probes[("data", True, "project, no byte code")] = ("project", no_byte_code)
        for run in range(options.runs):
            progress(f"cold starts, round {run + 1} of {options.runs} ({len(cold_probes)} cases)")
            for key, (which, env) in cold_probes.items():
                measured = probe("cold", which, env)
                cold.setdefault(key, []).append(measured["cold_ms"])
                cold_cpu.setdefault(key, []).append(measured["cold_cpu_ms"])
        if options.instructions:
            progress(f"counting instructions of {len(counted_probes)} cold paths with valgrind (minutes)")
        counted = (
            instructions.cold_paths(counted_probes, {**envs[("data", False)], **closure["project"]}, REPO)
            if options.instructions
            else None
        )
        progress(f"warm calls: {options.blocks} blocks of {options.calls} per case")
        before = stats(origin)
        extra = ("--calls", str(options.calls), "--blocks", str(options.blocks))
        warm[("data", True, "project")] = probe(
            "warm", "project", handler_envs[(("data", True), "project")], *extra
        )
        after = stats(origin)
        seen = {
            key: after.get(key, 0) - before.get(key, 0) for key in ("data_connections", "data", "extension")
        }
        for api, tracing in cases:
            for handler in HANDLERS:
                if (api, tracing, handler) not in warm:
                    warm[(api, tracing, handler)] = probe(
                        "warm", handler, handler_envs[((api, tracing), handler)], *extra
                    )
    daemon.close()

    print(
        f"{'store API':<10} {'tracing':<8} {'cold ms':>16} {'cold ratio':>11} {'warm / bare GET':>24}"
        f" {'warm / cheapest GET':>24}"
    )
    print(
        f"{'':<10} {'':<8} {'project textbook':>16} {'time   CPU':>11} {'project textbook':>24}"
        f" {'project textbook':>24}"
    )
    for api, tracing in cases:
        project = statistics.median(cold[(api, tracing, "project")])
        textbook = statistics.median(cold[(api, tracing, "textbook")])
        cpu = statistics.median(cold_cpu[(api, tracing, "project")]) / statistics.median(
            cold_cpu[(api, tracing, "textbook")]
        )
        bare, cheapest = (
            [
                warm[(api, tracing, handler)]["handler_us"] / warm[(api, tracing, handler)][base]
                for handler in HANDLERS
            ]
            for base in ("raw_us", "cheapest_us")
        )
        print(
            f"{api:<10} {'on' if tracing else 'off':<8} {project:>7.0f} {textbook:>8.0f} "
            f"{project / textbook:>6.2f} {cpu:>4.2f} {bare[0]:>15.2f} {bare[1]:>8.2f}"
            f" {cheapest[0]:>15.2f} {cheapest[1]:>8.2f}"
        )
    raw_us = statistics.median(w["raw_us"] for w in warm.values())
    cheapest_us = statistics.median(w["cheapest_us"] for w in warm.values())
    print(
        f"\nbare GET to the stand-in: {raw_us:.0f} us per call, cheapest GET {cheapest_us:.0f} us "
        "(medians of the cases)"
    )
    requests_sent = options.calls * (options.blocks + 1) + 1
    bare = 2 * options.calls * (options.blocks + 1)
    print(
        f"project, one warm process (data API, tracing on): {requests_sent} requests made "
        f"{seen['data'] - bare} store calls and {seen['extension']} secret read(s); with the two bare "
        f"sessions' {bare} calls, {seen['data_connections']} TCP connection(s) to the store"
    )
    textbooks = {tracing: statistics.median(cold[("data", tracing, "textbook")]) for tracing in (True, False)}
    floors_named = (("floor", "imported as usual"), ("lean floor", "with the project's start-up measures"))
    for floor, how in floors_named:
        ms = statistics.median(cold[("data", False, floor)])
        print(
            f"libraries alone, {how} (bench/floor.py; nothing answered): {ms:.0f} ms, "
            f"{ms / textbooks[True]:.2f} of the textbook's cold path with tracing on, "
            f"{ms / textbooks[False]:.2f} with it off (data API)"
        )
    if options.against is not None:
        ratios = [
            statistics.median(cold[("data", tracing, "against")]) / textbooks[tracing]
            for tracing in (True, False)
        ]
        print(
            f"project at {options.against} (data API): cold ratio {ratios[0]:.2f} with tracing on, "
            f"{ratios[1]:.2f} with it off"
        )
    if counted is not None:
        print_instructions(counted, options.against)
    compiled = statistics.median(cold[("data", True, "project")])
    source_only = statistics.median(cold[("data", True, "project, no byte code")])
    print(
        f"project cold path (data API, tracing on) compiling every module, as in Lambda from an asset "
        f"without byte code: {source_only:.0f} ms, {source_only / compiled:.2f}x the cold path with it"
    )
    print(f"function asset, zipped as the CDK CLI ships it: {asset_megabytes():.1f} MB")
    python = closures.PYTHON.version
    print(
        f"\n{options.runs} cold runs per case, interleaved; Python {python} on {platform.machine()}; "
        f"{os.cpu_count()} CPUs;\n"
        f"each handler with python -S and only its own packages (bench/closures.py): the project's asset "
        f"for this machine ({packages(closure['project'])} packages), the textbook's "
        f"{closures.TEXTBOOK_REQUIREMENTS.name} ({packages(closure['textbook'])})"
    )


def packages(settings: dict[str, str]) -> int:
    """How many distributions the closure a probe runs from holds."""
    return len(list(Path(settings["PYTHONPATH"]).glob("*.dist-info")))


def print_instructions(counted: dict[tuple[str, bool, str], int], against: str | None) -> None:
    """The cold paths in instructions (``--instructions``), as ratios to the textbook's."""
    print("\ncold path in instructions (bench/instructions.py: callgrind, interpreter start-up subtracted):")
    for api in STORE_APIS:
        ratios = ", ".join(
            f"{counted[(api, tracing, 'project')] / counted[(api, tracing, 'textbook')]:.3f} with tracing "
            f"{'on' if tracing else 'off'}"
            for tracing in (True, False)
        )
        millions = counted[(api, False, "project")] / 1e6
        print(f"  project / textbook, {api} API: {ratios} (project, tracing off: {millions:.0f} M)")
    textbooks = {tracing: counted[("data", tracing, "textbook")] for tracing in (True, False)}
    for title, floor in (("imported as usual", "floor"), ("lean", "lean floor")):
        on, off = (counted[("data", False, floor)] / textbooks[tracing] for tracing in (True, False))
        print(
            f"  libraries alone, {title} / textbook (data API): {on:.3f} with tracing on, "
            f"{off:.3f} with it off"
        )
    if against is not None:
        on, off = (counted[("data", tracing, "against")] / textbooks[tracing] for tracing in (True, False))
        print(
            f"  project at {against} / textbook (data API): {on:.3f} with tracing on, {off:.3f} with it off"
        )
    print_anatomy(counted)


def print_anatomy(counted: dict[tuple[str, bool, str], int]) -> None:
    """Where the project's cold path goes: each step's instructions beyond the step before, and its
    share of the textbook's cold path (the shares add up to the project's ratio)."""
    textbook = counted[("data", False, "textbook")]
    print("  the project's cold path step by step (data API, tracing off), each beyond the one before:")
    before = 0
    for step, title in ANATOMY:
        total = counted[("data", False, step)]
        print(f"    {title:<66} {(total - before) / 1e6:6.0f} M  {(total - before) / textbook:.3f}")
        before = total
    print(f"    {'= the project':<66} {before / 1e6:6.0f} M  {before / textbook:.3f} of the textbook")


if __name__ == "__main__":
    main()
