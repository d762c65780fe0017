"""Cold paths counted in machine instructions, for ``make bench BENCH_ARGS=--instructions``.

Wall-clock and CPU time on a shared or virtual machine move by several per cent from one run to the
next, which blurs a ratio such as 0.45 against 0.50 even with medians of many runs. The number of
instructions a cold start executes does not move: the same interpreter, modules and input give the
same count to within a few in a million, whatever else the machine is doing. It is not time (a cache
miss or a system call costs more than an add), so ``bench/run.py`` prints it beside the times as a
second opinion, never instead of them.

Counted with valgrind's callgrind tool (Debian's ``valgrind`` package), which runs the probe about
fifty times slower; the probes run in parallel, one per CPU. Each count is a whole process, so the
count of a probe that imports nothing (``bench/probe.py cold nothing``: interpreter start-up and the
probe's own imports) is subtracted from every other one. String hashing is fixed
(``PYTHONHASHSEED=0``) so that sets and dicts are laid out alike in every run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TypeVar

from closures import probe_command  # bench/closures.py, beside this module

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")
Key = TypeVar("Key", bound=Hashable)


def valgrind() -> str:
    """The valgrind executable, or a clear exit where it is missing."""
    found = shutil.which("valgrind")
    if found is None:
        raise SystemExit(
            "--instructions counts with valgrind, which is not on the PATH "
            "(Debian, Ubuntu: apt-get install valgrind)"
        )
    return found


def count(which: str, env: Mapping[str, str], cwd: Path) -> int:
    """Instructions executed by a whole cold-path probe process of ``which`` (project, textbook,
    floor, project-import or nothing)."""
    result = subprocess.run(
        [valgrind(), "--tool=callgrind", f"--callgrind-out-file={os.devnull}", *probe_command("cold", which)],
        env={**env, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    found = _COLLECTED.search(result.stderr)
    if result.returncode != 0 or found is None or "\nBENCH " not in result.stdout:
        raise SystemExit(f"{which} under callgrind failed:\n{result.stderr[-3000:]}{result.stdout[-1000:]}")
    return int(found.group(1))


def cold_paths(
    probes: Mapping[Key, tuple[str, Mapping[str, str]]], baseline_env: Mapping[str, str], cwd: Path
) -> dict[Key, int]:
    """Instructions of each probe's cold path, ``{key: (which, env)}``, less the interpreter's own."""
    jobs: dict[Key | None, tuple[str, Mapping[str, str]]] = {None: ("nothing", baseline_env)}
    jobs.update(probes.items())
    counted: dict[Key | None, int] = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {pool.submit(count, which, env, cwd): key for key, (which, env) in jobs.items()}
        try:
            for future in as_completed(futures):
                counted[futures[future]] = future.result()
        except BaseException:
            # A probe failed: the ones not started yet never start (those running finish first).
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    baseline = counted.pop(None)
    return {key: value - baseline for key, value in counted.items() if key is not None}
