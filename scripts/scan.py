"""``make scan``: the scanners a security team runs, offline, on what this project ships.

- checkov on the CloudFormation template of every variant of the stack a deployer can choose (stages,
  ``apiAuth`` modes, SnapStart, the Document API store, the GitHub deploy-role stack). What the design
  accepts is acknowledged on each resource, with its reason, by ``cdk_app/nag.py``; anything else fails.
- zizmor on the GitHub workflows.

checkov is pinned in ``scripts/scan-requirements.txt`` (hash-locked in ``scan-requirements.lock``) and
kept out of ``.venv``: ``scripts/tools.py`` installs it into ``.build/tools/checkov`` on first use.
Each finding is printed; the exit status is 1 if there is any.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tools import REPO, tool

OUT = REPO / ".build" / "scan"
# Every choice that changes the template's resources.
VARIANTS: dict[str, list[str]] = {
    "dev": [],
    "prod": ["-c", "stage=prod", "-c", "byteCode=optional"],
    "apiAuth=jwt": ["-c", "apiAuth=jwt"],
    "apiAuth=none": ["-c", "apiAuth=none"],
    "snapStart": ["-c", "snapStart=true"],
    "swaggerUi": ["-c", "swaggerUi=true"],
    "storeApi=documents": ["-c", "storeApi=documents", "-c", "storeUrl=http://stargate.internal:8082"],
    "github-deploy-role": ["-c", "githubRepo=owner/repository"],
}


def synth(name: str, arguments: list[str]) -> Path:
    """The variant's cloud assembly, synthesized by the CDK CLI as `make synth` does."""
    out = OUT / name.replace("=", "-")
    # `python3 app.py` (cdk.json) must be this venv's; byte code does not change the template.
    path = os.pathsep.join(
        [str(Path(sys.executable).parent), str(REPO / "node_modules" / ".bin"), os.environ["PATH"]]
    )
    env = {**os.environ, "PATH": path, "BYTE_CODE_FROM": "path", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    command = ["npx", "--no-install", "cdk", "synth", "--no-notices", "--quiet", "-o", str(out), *arguments]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"scan: cdk synth of {name} failed:\n{result.stderr[-3000:]}")
    return out


def main() -> int:
    scanner = tool("checkov", REPO / "scripts" / "scan-requirements.lock") / "checkov"
    failed: list[str] = []
    for name, arguments in VARIANTS.items():
        out = synth(name, arguments)
        result = subprocess.run(
            [str(scanner), "-d", str(out), "--framework", "cloudformation", "--compact", "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
        summary = next((line for line in result.stdout.splitlines() if line.startswith("Passed checks")), "")
        print(f"checkov, {name}: {summary or 'no summary'}")
        if result.returncode != 0:
            print(result.stdout)
            failed.append(f"checkov ({name})")
    zizmor = Path(sys.executable).with_name("zizmor")
    workflows = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", str(REPO / ".github" / "workflows")],
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"zizmor: {(workflows.stdout.strip().splitlines() or ['no output'])[-1]}")
    if workflows.returncode != 0:
        print(workflows.stdout, workflows.stderr)
        failed.append("zizmor")
    if failed:
        print(f"scan: findings in {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
