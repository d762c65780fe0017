#!/usr/bin/env python3
"""CDK entry point (see ``cdk.json``): ``make synth`` / ``make deploy`` run it through the CDK CLI."""

from __future__ import annotations

import os
import sys

from aws_cdk import App

from cdk_app.bundling import LAMBDA_SOURCE_DIR, BundlingError

# The CDK app shares names with the function (orders_api.names). The CDK CLI runs `python3 app.py`
# from cdk.json, where the Makefile's PYTHONPATH may be absent, so the function's source goes on the path.
if str(LAMBDA_SOURCE_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SOURCE_DIR))

from cdk_app.config import ConfigError
from cdk_app.stack import add_orders_api


def main() -> int:
    """Build and synthesize the app; a configuration or bundling problem ends it with a one-line reason."""
    app = App()
    try:
        # The region the CDK CLI works with (its profile's or AWS_REGION, else us-east-1), which a deploy
        # goes to: the template names the Parameters and Secrets extension's layer published there, or
        # leaves the extension out where AWS publishes none for arm64.
        add_orders_api(app, region=os.environ.get("CDK_DEFAULT_REGION") or None)
    except ConfigError as error:
        print(f"Invalid configuration (cdk.json context or -c key=value): {error}", file=sys.stderr)
        return 1
    except BundlingError as error:
        print(f"Could not build the function asset: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
