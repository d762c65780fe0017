"""Every repository path the docs name exists: a module renamed without its docs (``astra_data_api.py``,
``stargate_documents.py``) sends a reader looking for nothing."""

from __future__ import annotations

import re
import subprocess

from tests.infra.synthesis import REPO_ROOT

# A path in backticks: with a slash (``lambda_src/orders_api/store/http.py``, ``tests/faults/``) or a file
# name with an extension (``preflight.py``).
NAMED = re.compile(
    r"`([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-\[\]]*)+|[A-Za-z0-9_\-]+\.(?:py|md|txt|json|yml|yaml|toml|sh))`"
)
# Backticked words with a slash that are not repository paths (scopes, media types, images, AWS key
# aliases, build output), and what
# the Makefile or the app creates at run time.
NOT_PATHS = re.compile(r"^(orders/|application/|stargateio/|public\.ecr\.aws/|aws/|DATA_DIR/|\.build/)")
MADE_AT_RUN_TIME = {".local-data", ".build", "cdk-outputs.json", "cdk.out", ".venv", "node_modules"}


def repository_paths() -> set[str]:
    """Every tracked file and folder, and every trailing part of their paths (docs name them from
    where the reader stands: ``store/http.py`` beside ``lambda_src/orders_api/``)."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    known: set[str] = set()
    for path in tracked:
        parts = path.split("/")
        for end in range(1, len(parts) + 1):
            for start in range(end):
                known.add("/".join(parts[start:end]))
    return known


def test_every_path_the_docs_name_exists() -> None:
    known = repository_paths()
    documents = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]
    documents += sorted((REPO_ROOT / "localdev").rglob("*.md"))

    missing = [
        f"{document.relative_to(REPO_ROOT)}: {path}"
        for document in documents
        for path in (match.group(1).rstrip("/") for match in NAMED.finditer(document.read_text()))
        if not path.startswith(("http", "/"))
        and not any(character in path for character in "{}<>*:")
        and not NOT_PATHS.match(path)
        and path not in MADE_AT_RUN_TIME
        and path not in known
    ]

    assert missing == [], "the docs name paths that do not exist: " + ", ".join(missing)
