"""Tests of the CDK app (cdk_app/, app.py), its function asset, and scripts/smoke.py."""

import os
from pathlib import Path

# The CDK runs on the Node that package.json pins (npm's `node`, Node 24), as under `make`: first on PATH
# before aws_cdk is imported, so jsii's runtime and the CDK CLI both use it.
_NODE_BIN = Path(__file__).resolve().parents[2] / "node_modules" / ".bin"
if (_NODE_BIN / "node").exists():
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
