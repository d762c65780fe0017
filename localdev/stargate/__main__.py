"""``python -m localdev.stargate``: serve the embedded Stargate-compatible server until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from localdev.stargate.data_api.collection import DATA_API_FIND_PAGE_SIZE
from localdev.stargate.data_api.exceptions import ERROR_NAME_STYLES
from localdev.stargate.data_api.responses import MAX_LATENCY_MS, MAX_PAGE_SIZE
from localdev.stargate.server import Role, RunningServer, open_backend, start_in_thread


def _page_size(text: str) -> int:
    size = int(text)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_PAGE_SIZE}")
    return size


def _latency(text: str) -> int:
    latency = int(text)
    if not 0 <= latency <= MAX_LATENCY_MS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_LATENCY_MS}")
    return latency


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(
        prog="python -m localdev.stargate",
        description=(
            "Serve Stargate's auth API, Document API v2 and the Astra Data API (/api/json/v1), backed by "
            "SQLite: on one port, or like the images on separate ports (--auth-port 8081 "
            "--documents-port 8082 --health-port 8084 --data-api-port 8181)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=8082,
        help="port of every role not given its own port below, 0 for any free one (default: %(default)s)",
    )
    parser.add_argument("--auth-port", type=int, default=None, help="serve POST /v1/auth on this port")
    parser.add_argument(
        "--documents-port", type=int, default=None, help="serve /v2/... and /health on this port"
    )
    parser.add_argument(
        "--health-port", type=int, default=None, help="serve /checker/liveness and /checker/readiness here"
    )
    parser.add_argument(
        "--data-api-port", type=int, default=None, help="serve the Data API (/api/json/v1/...) on this port"
    )
    parser.add_argument(
        "--data-dir", default=".local-data", help="directory of stargate.sqlite3 (default: %(default)s)"
    )
    parser.add_argument(
        "--token",
        default=None,
        help="also accept this X-Cassandra-Token without calling /v1/auth; it never expires",
    )
    parser.add_argument(
        "--data-api-page-size",
        type=_page_size,
        default=DATA_API_FIND_PAGE_SIZE,
        help="documents per Data API find page; real servers use 20 or 50 (default: %(default)s)",
    )
    parser.add_argument(
        "--data-api-error-names",
        choices=ERROR_NAME_STYLES,
        default="current",
        help="Data API error codes: current names, or the legacy pre-2026 ones (default: %(default)s)",
    )
    parser.add_argument(
        "--data-api-latency-ms",
        type=_latency,
        default=0,
        help="answer each Data API command this many milliseconds late, as a remote database would, to "
        "test client timeouts (default: %(default)s)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def ports_by_role(args: argparse.Namespace) -> dict[int, set[Role]]:
    """Which roles each port serves: a role without its own port is served on ``--port``."""
    own = {
        Role.AUTH: args.auth_port,
        Role.DOCUMENTS: args.documents_port,
        Role.HEALTH: args.health_port,
        Role.DATA_API: args.data_api_port,
    }
    ports: dict[int, set[Role]] = {}
    for role, port in own.items():
        ports.setdefault(args.port if port is None else port, set()).add(role)
    return ports


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    args = parse_args(argv)
    ports = ports_by_role(args)
    servers: list[RunningServer] = []
    # One backend for every port, so a token from the auth port works on the documents port.
    backend = open_backend(args.data_dir, token=args.token)
    try:
        for port, roles in ports.items():
            server = start_in_thread(
                args.host,
                port,
                roles=roles,
                verbose=args.verbose,
                backend=backend,
                data_api_page_size=args.data_api_page_size,
                data_api_error_names=args.data_api_error_names,
                data_api_latency_ms=args.data_api_latency_ms,
            )
            servers.append(server)
    except OSError as error:
        print(f"cannot listen on {args.host}:{port}: {error}", file=sys.stderr)
        for server in servers:
            server.stop()
        backend.close()
        return 1
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    for server in servers:
        # With one port the line stays as it always was; with several, each names what it serves.
        serves = "" if len(servers) == 1 else ", ".join(sorted(role.value for role in server.roles)) + "; "
        print(
            f"Stargate-compatible server listening on {server.url} ({serves}data in {args.data_dir})",
            flush=True,
        )
    # Waking up now and then keeps the main thread responsive to signals on every platform.
    while not stopping.wait(0.5):
        pass
    for server in servers:
        server.stop()
    backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
