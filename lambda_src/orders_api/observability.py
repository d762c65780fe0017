"""The one place that creates the Powertools Logger, Tracer and Metrics; everything else imports them.

Service name, metrics namespace and log level come from the POWERTOOLS_* environment variables that
the CDK stack sets; the defaults below serve local runs and tests.

Tracing: Powertools' ``Tracer`` with this project's own provider (``orders_api.xray``), which sends
X-Ray subsegments to Lambda's X-Ray daemon without the X-Ray SDK. Where tracing is off (outside
Lambda, or ``POWERTOOLS_TRACE_DISABLED=true``, as the stack sets for ``-c tracing=false``), the
tracer gets a provider that does nothing. The tracer is never created "disabled": Powertools then
imports the X-Ray SDK to switch it off, and the function does not ship it.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from orders_api import names
from orders_api.errors import OrdersError
from orders_api.xray import NOT_RECORDED, XRayDaemonTracing

SERVICE = os.environ.get(names.POWERTOOLS_SERVICE_NAME, names.SERVICE_NAME)
METRICS_NAMESPACE = os.environ.get(names.POWERTOOLS_METRICS_NAMESPACE, names.METRICS_NAMESPACE)


def tracing_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """X-Ray tracing is on inside Lambda unless POWERTOOLS_TRACE_DISABLED turns it off."""
    disabled = env.get(names.POWERTOOLS_TRACE_DISABLED, "").strip().lower() in ("1", "true", "yes", "on")
    return "AWS_LAMBDA_FUNCTION_NAME" in env and not disabled


class NoTracing(BaseProvider):
    """A tracing provider that records nothing, so that no tracing SDK is imported."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield NOT_RECORDED

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield NOT_RECORDED

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing to record."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing to record."""

    def patch(self, modules: Any) -> None:
        """Nothing to patch."""

    def patch_all(self) -> None:
        """Nothing to patch."""


logger = Logger(service=SERVICE)
tracer = Tracer(
    service=SERVICE,
    disabled=False,
    auto_patch=False,
    provider=XRayDaemonTracing() if tracing_enabled() else NoTracing(),
)
metrics = Metrics(service=SERVICE, namespace=METRICS_NAMESPACE)


def count_server_error(env: Mapping[str, str] = os.environ) -> None:
    """One of the function's own 500 answers, counted for the version that gave it (``names``), at once:
    CodeDeploy's alarms watch a new version's count while traffic moves to it."""
    version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    dimensions = {"service": SERVICE, names.VERSION_DIMENSION: version}
    with single_metric(
        name=names.SERVER_ERROR_METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=METRICS_NAMESPACE,
        default_dimensions=dimensions,
    ):
        pass


def remote_call(method: str, url: str) -> AbstractContextManager[Any]:
    """Traces one HTTP call to another service; ``record_answer(status, length)`` on what it yields."""
    provider = tracer.provider
    if isinstance(provider, XRayDaemonTracing):
        return provider.remote_call(method, url)
    return nullcontext(NOT_RECORDED)


class _ExpectedOutcomes(logging.Filter):
    """Drops the traceback Powertools' ``capture_method`` logs for every exception leaving a method.

    Errors this service raises on purpose (an unknown order, a refused transition, a store failure)
    are answered and logged once by the handler, without a stack trace; anything else still passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, OrdersError)


logging.getLogger("aws_lambda_powertools.tracing.tracer").addFilter(_ExpectedOutcomes())
# urllib3 logs each request line at DEBUG, query string included: a Document API search carries the
# caller's id there (where={"owner": ...}). Never below INFO, whatever level the function runs at.
logging.getLogger("urllib3").setLevel(logging.INFO)

# Most requests add no business metric; Powertools would warn about that on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")
