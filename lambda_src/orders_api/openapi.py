"""Print the OpenAPI document: ``python -m orders_api.openapi > openapi.json``."""

from __future__ import annotations

import json

from orders_api.handler import openapi_json


def render() -> str:
    """The committed form of the document: indented, keys in generation order, trailing newline."""
    return json.dumps(json.loads(openapi_json()), indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
