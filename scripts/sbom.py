"""``make sbom``: a CycloneDX SBOM (JSON) of the function's asset: every package the asset carries,
with its version, its PyPI URL and the sha256 of each of its files the lock allows, from
``lambda_src/requirements.lock`` (the asset is built from that very file, hash-checked). Written to
``.build/sbom/orders-function.cdx.json``, reproducibly (no timestamp, no random serial), and checked:
every component has a version and at least one sha256, and every pin of the function is there. The
deploy workflow keeps it as an artifact of each run.

cyclonedx-bom is pinned in ``scripts/sbom-requirements.txt`` (locked in ``sbom-requirements.lock``) and
installed apart from ``.venv`` by ``scripts/tools.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tools import REPO, tool

LOCK = REPO / "lambda_src" / "requirements.lock"
OUT = REPO / ".build" / "sbom" / "orders-function.cdx.json"


def main() -> int:
    cyclonedx = tool("cyclonedx", REPO / "scripts" / "sbom-requirements.lock") / "cyclonedx-py"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(cyclonedx), "requirements", str(LOCK), "--output-reproducible", "--of", "JSON", "-o", str(OUT)],
        check=True,
    )
    bom = json.loads(OUT.read_text())
    pinned = {
        line.split("==")[0].strip().lower()
        for line in (REPO / "lambda_src" / "requirements.txt").read_text().splitlines()
        if "==" in line.split("#")[0]
    }
    problems = []
    for component in bom.get("components", []):
        hashes = [
            h for reference in component.get("externalReferences", []) for h in reference.get("hashes", [])
        ]
        if not component.get("version") or not any(h.get("alg") == "SHA-256" for h in hashes):
            problems.append(f"{component.get('name')}: no version or no sha256")
    named = {
        str(component.get("name", "")).lower().replace("_", "-") for component in bom.get("components", [])
    }
    missing = {name.replace("_", "-") for name in pinned} - named
    if missing:
        problems.append(f"missing from the SBOM: {', '.join(sorted(missing))}")
    if problems:
        print("sbom: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(
        f"sbom: {OUT.relative_to(REPO)}: {len(bom['components'])} packages, each with its version and sha256"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
