"""Generated requests against the API started as `make run`: every answer must match the OpenAPI document.

Schemathesis derives valid and invalid requests from the served document and checks, among others, that
no answer is a 5xx, that every status code and body is documented, and that content types match. Three
checks are left out on purpose: ``positive_data_acceptance`` (an opaque cursor is a string in the
document, but only cursors the API issued are accepted), ``unsupported_method`` (an undeclared method
is a 404 here, as API Gateway answers it for routes that do not exist, not a 405) and ``ignored_auth``
(the document declares SigV4 and JWT, which API Gateway checks before the function runs; `make run`
serves the API as ``apiAuth=none`` does; the infrastructure tests check the routes' authorizers).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import RunningApi

pytestmark = pytest.mark.e2e


def test_every_answer_to_generated_requests_matches_the_openapi_document(
    api: RunningApi, tmp_path: Path
) -> None:
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert schemathesis, "schemathesis is in requirements-dev.txt"

    result = subprocess.run(
        [
            schemathesis,
            "run",
            f"{api.url}/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance,unsupported_method,ignored_auth",
            "--max-examples",
            "25",
            "--seed",
            "20261127",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stdout[-6000:]
