"""``make load``: run ``bench/load/locustfile.py`` headless, bounded in time and in requests.

Without ``--url`` it first starts the API as ``make run`` does (``python -m localdev.run``, the embedded
store, data in a temporary folder, free ports) and stops it at the end, whatever happens. It writes
Locust's HTML report and its CSV files next to it (``load-report.html``, ``load-report_stats.csv``, ...),
prints requests/s, p50, p99 and failures, and exits non-zero when any request failed.

``--environments 1,4`` runs the whole test once per count of execution environments (``make run``'s
``LOCAL_CONCURRENCY``), one after the other against a fresh API each, and ends with their throughput
side by side, as ratios to the first: what concurrency buys on this machine, from one run.

    .venv/bin/python bench/load/run.py [--url http://127.0.0.1:3000] [--users 8] [--seconds 30]
        [--requests 20000] [--report load-report.html] [--environments 1,4]
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

import requests

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
CSV_FILES = ("_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalApi:
    """The API started like ``make run``: ``python -m localdev.run`` with its own ports and data folder."""

    def __init__(self, work_dir: Path, environments: int | None = None) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log_path = work_dir / "api.log"
        env = {
            **os.environ,
            **({"LOCAL_CONCURRENCY": str(environments)} if environments else {}),
            "PORT": self.url.rsplit(":", 1)[1],
            "STARGATE_PORT": str(free_port()),
            "DATA_DIR": str(work_dir / "data"),
            "PYTHONPATH": os.pathsep.join(
                [str(REPO / "lambda_src"), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
        with self.log_path.open("wb") as log:
            # A session of its own: Ctrl-C stops Locust first (which then writes its report), not the API.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "localdev.run"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the API exited with code {self.process.returncode}:\n{self.log()}")
            try:
                requests.get(f"{self.url}/openapi.json", timeout=1)
                return  # any answer: the load test itself says whether the answers are right
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the API did not answer within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        """The end of what the API printed."""
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        """SIGTERM to its pid (it shuts down cleanly on it), SIGKILL if it is still there after 15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def answers(url: str, timeout: float = 5) -> None:
    """Return when anything answers at ``url``; RuntimeError otherwise (no point loading nothing)."""
    try:
        requests.get(f"{url}/openapi.json", timeout=timeout)
    except requests.RequestException as error:
        raise RuntimeError(
            f"nothing answers at {url} ({type(error).__name__}); start it (make run) or fix LOAD_URL"
        ) from error


def run_locust(url: str, args: argparse.Namespace, report: Path, csv_prefix: Path) -> int:
    command = [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--host",
        url,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate or args.users),
        "--run-time",
        f"{args.seconds}s",
        "--max-requests",
        str(args.requests),
        "--html",
        str(report),
        "--csv",
        str(csv_prefix),
    ]
    print(f"load: {args.users} users for at most {args.seconds} s / {args.requests} requests against {url}")
    return subprocess.run(command, cwd=REPO, check=False).returncode


def summary(stats_csv: Path) -> dict[str, str]:
    """The "Aggregated" row of Locust's ``*_stats.csv``."""
    with stats_csv.open(newline="") as file:
        return next(row for row in csv.DictReader(file) if row["Name"] == "Aggregated")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="", help="API to load (default: start one like `make run`)")
    parser.add_argument("--users", type=int, default=8, help="concurrent users (default 8)")
    parser.add_argument("--spawn-rate", type=float, default=0, help="users started per second (default: all)")
    parser.add_argument("--seconds", type=int, default=30, help="run time limit (default 30)")
    parser.add_argument("--requests", type=int, default=20000, help="request limit, 0: none (default 20000)")
    parser.add_argument("--report", default="load-report.html", help="HTML report; CSV files go beside it")
    parser.add_argument(
        "--environments",
        default="",
        help="comma-separated counts of execution environments, one run each (e.g. 1,4); not with --url",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds < 1 or args.requests < 0:
        parser.error("--users and --seconds must be at least 1, --requests at least 0")
    try:
        args.environments = [int(item) for item in args.environments.split(",") if item.strip()]
    except ValueError:
        parser.error(f"--environments takes counts such as 1,4, got {args.environments!r}")
    if any(count < 1 for count in args.environments):
        parser.error("--environments: each count must be at least 1")
    if args.environments and args.url:
        parser.error("--environments starts its own API for each count; leave out --url")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = Path(args.report).resolve()

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # run the finally blocks: the API is stopped

    signal.signal(signal.SIGTERM, terminate)
    if not args.environments:
        code, _ = one_run(args, report, None)
        return code
    throughputs: list[tuple[int, float]] = []
    worst = 0
    for count in args.environments:
        print(f"load: {count} execution environment{'s' if count > 1 else ''}")
        code, row = one_run(args, report.with_name(f"{report.stem}-{count}env{report.suffix}"), count)
        worst = worst or code
        if row is None:
            return code or 1
        throughputs.append((count, float(row["Requests/s"])))
    base = throughputs[0][1]
    print("load: throughput by execution environments, as a ratio to the first run:")
    for count, rate in throughputs:
        ratio = f"{rate / base:.2f}x" if base else "n/a"
        print(f"  {count:>3} environment{'s' if count > 1 else ' '}: {rate:8.1f} requests/s  {ratio}")
    return worst


def one_run(
    args: argparse.Namespace, report: Path, environments: int | None
) -> tuple[int, dict[str, str] | None]:
    """One load test (against a fresh local API unless ``--url``): its exit code and Locust's summary."""
    csv_prefix = report.with_suffix("")  # load-report.html -> load-report_stats.csv, ...
    report.parent.mkdir(parents=True, exist_ok=True)
    for suffix in CSV_FILES:  # a run that stops early must not leave the previous run's figures
        csv_prefix.with_name(csv_prefix.name + suffix).unlink(missing_ok=True)
    report.unlink(missing_ok=True)

    def let_locust_finish(signum: int, frame: FrameType | None) -> None:
        print("load: interrupted, Locust writes its report and stops", file=sys.stderr)

    api_log = ""
    with tempfile.TemporaryDirectory(prefix="orders-load-") as work_dir:
        api = None
        try:
            if args.url:
                url = args.url.rstrip("/")
                answers(url)
            else:
                api = LocalApi(Path(work_dir), environments)
                print(f"load: starting the API like `make run` on {api.url}")
                api.wait_until_ready()
                url = api.url
            # Ctrl-C reaches Locust too (same process group): wait for it rather than kill it.
            signal.signal(signal.SIGINT, let_locust_finish)
            code = run_locust(url, args, report, csv_prefix)
        except RuntimeError as error:
            print(f"load: {error}", file=sys.stderr)
            return 1, None
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if api is not None:
                api.stop()
                api_log = api.log()

    stats_csv = csv_prefix.with_name(f"{csv_prefix.name}_stats.csv")
    if not stats_csv.exists():
        print(f"load: Locust wrote no statistics (exit code {code})", file=sys.stderr)
        return code or 1, None
    row = summary(stats_csv)
    failures = int(row["Failure Count"])
    print(
        f"load: {row['Request Count']} requests, {float(row['Requests/s']):.1f} requests/s, "
        f"p50 {row['50%']} ms, p99 {row['99%']} ms, {failures} failures; "
        f"report {report}, statistics {stats_csv}"
    )
    if failures or int(row["Request Count"]) == 0:
        if api_log:
            print("load: the end of the API's log:", *api_log.splitlines()[-15:], sep="\n", file=sys.stderr)
        return code or 1, row
    return code, row


if __name__ == "__main__":
    sys.exit(main())
