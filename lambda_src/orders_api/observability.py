"""The one place that creates the Powertools Logger, Tracer and Metrics; everything else imports them.

Service name, metrics namespace and log level come from the POWERTOOLS_* environment variables that
the CDK stack sets; the defaults below serve local runs and tests.
"""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "orders")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "OrdersApi")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=METRICS_NAMESPACE)

# Most requests add no business metric; Powertools would warn about that on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")
