"""Settings shared by every test: no X-Ray daemon, no CloudWatch, no AWS credentials."""

from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OrdersApiTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "orders")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
# Listing orders seals cursors with this key (deployed: a generated Secrets Manager secret).
os.environ.setdefault("CURSOR_KEY", "test-cursor-key-0123456789abcdef0123456789")
