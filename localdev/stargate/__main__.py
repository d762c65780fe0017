"""``python -m localdev.stargate``: serve the embedded Stargate-compatible server until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from localdev.stargate.server import start_in_thread


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(
        prog="python -m localdev.stargate",
        description="Serve Stargate's auth API and Document API v2 on one port, backed by SQLite.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8082, help="port to bind, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument(
        "--data-dir", default=".local-data", help="directory of stargate.sqlite3 (default: %(default)s)"
    )
    parser.add_argument(
        "--token",
        default=None,
        help="also accept this X-Cassandra-Token without calling /v1/auth; it never expires",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    args = parse_args(argv)
    try:
        server = start_in_thread(args.host, args.port, args.data_dir, token=args.token, verbose=args.verbose)
    except OSError as error:
        print(f"cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"Stargate-compatible server listening on {server.url} (data in {args.data_dir})", flush=True)
    # Waking up now and then keeps the main thread responsive to signals on every platform.
    while not stopping.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
