"""Tracing costs nothing where it is off, and behaves like Powertools' tracer where it is on; the log
never carries what a library would write about the store's URLs."""

from __future__ import annotations

import http.server
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Tracer

from orders_api.observability import NoTracing, tracing_enabled
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        ({}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "orders"}, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "orders", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "orders", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
    ],
)
def test_tracing_is_on_only_inside_lambda_and_not_disabled(env: dict[str, str], enabled: bool) -> None:
    assert tracing_enabled(env) is enabled


def test_a_method_traced_with_no_tracing_returns_and_raises_as_without_it() -> None:
    tracer = Tracer(service="orders-test", disabled=False, auto_patch=False, provider=NoTracing())

    @tracer.capture_method
    def answer(value: int) -> int:
        if value < 0:
            raise ValueError("negative")
        return value * 2

    assert answer(21) == 42
    with pytest.raises(ValueError, match="negative"):
        answer(-1)


def _imports_after_loading_the_handler(**env: str) -> str:
    probe = (
        "import sys, orders_api.handler; from orders_api.observability import tracer; "
        "print('aws_xray_sdk.core' in sys.modules, type(tracer.provider).__name__)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_TRACE", "AWS_LAMBDA"))}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**clean, "PYTHONPATH": str(REPO / "lambda_src"), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_with_tracing_off_the_xray_sdk_is_never_imported() -> None:
    assert _imports_after_loading_the_handler() == "False NoTracing"
    assert (
        _imports_after_loading_the_handler(
            AWS_LAMBDA_FUNCTION_NAME="orders", POWERTOOLS_TRACE_DISABLED="true"
        )
        == "False NoTracing"
    )


def test_in_lambda_with_tracing_on_the_daemon_provider_is_used_without_the_xray_sdk() -> None:
    assert _imports_after_loading_the_handler(AWS_LAMBDA_FUNCTION_NAME="orders") == "False XRayDaemonTracing"


def test_store_urls_with_caller_ids_never_reach_the_log_even_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a Document API that answers searches, and the function logging at DEBUG
    class Empty(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"data": {}}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    documents = StargateDocuments(
        f"http://127.0.0.1:{server.server_address[1]}", "ns", "orders", FixedToken("t"), new_session(), (1, 2)
    )
    try:
        with caplog.at_level(logging.DEBUG):
            # When the store lists one caller's orders (the owner goes into the query string)
            documents.search({"owner": {"$eq": "jwt:issuer#secret-caller"}})
    finally:
        server.shutdown()
        server.server_close()

    # Then no log line names the caller
    assert "secret-caller" not in caplog.text
