"""A stand-in for the AWS Parameters and Secrets Lambda Extension's HTTP API, for tests and benchmarks.

It serves what the function uses and nothing more: ``GET /secretsmanager/get?secretId=<id>`` with the
header ``X-Aws-Parameters-Secrets-Token`` equal to the session token it was started with, answered
with GetSecretValue's JSON (``ARN``, ``Name``, ``VersionId``, ``SecretString``, ``VersionStages``).
An unknown secret is 400 and a missing or wrong token 401, which the function treats like any
answer other than 200: the secret could not be read.

    with SecretsExtension({"orders/token": "AstraCS:..."}, session_token="local") as extension:
        env = {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension.port), "AWS_SESSION_TOKEN": "local"}

``reads`` counts the requests per secret, so a test can check what the function's own cache saved.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"  # noqa: S105 - a header name, not a secret


class SecretsExtension:
    """The extension's HTTP API on a free loopback port, in a thread, until ``stop`` (or ``with``)."""

    def __init__(self, secrets: dict[str, str], session_token: str, port: int = 0) -> None:
        self.secrets = dict(secrets)
        self.session_token = session_token
        self.reads: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="secrets-extension", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SecretsExtension:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def _handler_for(extension: SecretsExtension) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once, not after a delayed ACK

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            secret_id = (parse_qs(parts.query).get("secretId") or [""])[0]
            if parts.path != "/secretsmanager/get":
                self._answer(404, {"message": "not found"})
            elif self.headers.get(TOKEN_HEADER) != extension.session_token:
                self._answer(401, {"message": "missing or wrong X-Aws-Parameters-Secrets-Token"})
            elif secret_id not in extension.secrets:
                self._answer(400, {"message": "ResourceNotFoundException: the secret does not exist"})
            else:
                extension.reads[secret_id] += 1
                self._answer(
                    200,
                    {
                        "ARN": f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{secret_id}-AbCdEf",
                        "Name": secret_id,
                        "VersionId": "00000000-0000-4000-8000-000000000001",
                        "SecretString": extension.secrets[secret_id],
                        "VersionStages": ["AWSCURRENT"],
                    },
                )

        def _answer(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: tests and benchmarks read the counters instead."""

    return Handler
