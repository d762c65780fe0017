"""Tests of the CDK app (cdk_app/, app.py), its function asset, and scripts/smoke.py."""

import os

# Set before aws_cdk is first imported: the Node runtime behind jsii warns about Node 20 on start otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
