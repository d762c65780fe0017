"""A stand-in function for the execution-environment tests: says which process ran it, and when."""

from __future__ import annotations

import json
import os
import time
from typing import Any

STARTED_AT = time.time()  # this environment's init


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sleeps ``?sleep=`` seconds, raises on ``?crash``, answers its pid and the invocation's span."""
    query = event.get("queryStringParameters") or {}
    if "crash" in query:
        raise RuntimeError("the function broke")
    if "print" in query:  # what Powertools prints for a cold start, then a log line
        print('{"_aws": {"CloudWatchMetrics": []}, "ColdStart": [1.0]}')
        print('{"level": "INFO", "message": "kept"}', flush=True)
    began = time.time()
    time.sleep(float(query.get("sleep", "0")))
    body = {"pid": os.getpid(), "init": STARTED_AT, "began": began, "ended": time.time()}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
