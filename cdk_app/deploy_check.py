"""Refuses a deploy that could not work, before the CDK CLI starts: ``make deploy`` runs it first.

    python -m cdk_app.deploy_check -c storeUrl=https://... [other CDK CLI arguments]

It reads the context the CDK app would see (``cdk.json``, then every ``-c``/``--context`` in the
arguments, as ``make deploy CDK_ARGS=...`` passes them) and exits 2 with a message naming the setting
and how to give it when the store URL is still the placeholder, or when any setting is invalid.
``cdk synth`` stays permissive (it only warns), so CI and tests synthesize without a database.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from cdk_app.config import ConfigError, OrdersApiConfig

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def context_from(arguments: Sequence[str], cdk_json: Path = CDK_JSON) -> dict[str, object]:
    """``cdk.json``'s context overridden by each ``-c key=value`` in ``arguments``."""
    context: dict[str, object] = dict(json.loads(cdk_json.read_text()).get("context", {}))
    pending = list(arguments)
    while pending:
        argument = pending.pop(0)
        if argument in ("-c", "--context") and pending:
            pair = pending.pop(0)
        elif argument.startswith("--context="):
            pair = argument.removeprefix("--context=")
        elif argument.startswith("-c") and "=" in argument:
            pair = argument.removeprefix("-c")
        else:
            continue
        key, _, value = pair.partition("=")
        context[key.strip()] = value
    return context


def problems(arguments: Sequence[str], cdk_json: Path = CDK_JSON) -> list[str]:
    """Why a deploy with these arguments would not work; empty when it may go ahead."""
    context = context_from(arguments, cdk_json)
    try:
        config = OrdersApiConfig.from_context(context.get, context)
    except ConfigError as error:
        return [str(error)]
    if config.uses_placeholder_url:
        return [
            "storeUrl is still the placeholder, so every call would fail. Give your database's "
            'API endpoint: make deploy CDK_ARGS="-c storeUrl=https://<db-id>-<region>.apps.astra.'
            'datastax.com/api/json -c storeNamespace=default_keyspace", or set it in cdk.json'
        ]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    """Print each problem and return 2, or return 0 when the deploy may go ahead."""
    found = problems(sys.argv[1:] if argv is None else argv)
    for problem in found:
        print(f"Not deploying: {problem}", file=sys.stderr)
    return 2 if found else 0


if __name__ == "__main__":
    sys.exit(main())
