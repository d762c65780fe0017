"""An instant stand-in for everything the benchmarked handlers call, in its own process.

One HTTP/1.1 keep-alive server on a loopback port answers, from memory and at once:

- the Data API's ``findOne`` (``POST /api/json/v1/<keyspace>/<collection>``) with the order document;
- the Document API's ``GET /v2/namespaces/<namespace>/collections/<collection>/<id>?raw=true``;
- the Parameters and Secrets extension's ``GET /secretsmanager/get?secretId=…`` (the project's handler);
- Secrets Manager's ``GetSecretValue`` (``POST /`` with ``X-Amz-Target``; the textbook handler's boto3);
- ``GET /_stats``: requests seen per kind, and the connections that carried each kind, for the
  benchmark's own checks.

So the benchmark measures the handlers, not a database. Run by ``bench/run.py``:

    python bench/standin.py --document-file order.json --token <store token>
"""

from __future__ import annotations

import argparse
import json
import socketserver
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STATS: Counter[str] = Counter()


class StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], document: dict[str, Any], token: str) -> None:
        super().__init__(address, Handler)
        self.document = document
        self.token = token

    def get_request(self) -> Any:
        STATS["connections"] += 1
        return super().get_request()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: StandIn

    def setup(self) -> None:
        super().setup()
        self.kinds: set[str] = set()  # one handler serves one connection, keep-alive included

    def count(self, kind: str) -> None:
        STATS[kind] += 1
        if kind not in self.kinds:
            self.kinds.add(kind)
            STATS[f"{kind}_connections"] += 1

    def do_GET(self) -> None:
        if self.path.startswith("/secretsmanager/get"):
            self.count("extension")
            self._answer(
                200, {"Name": "bench", "SecretString": self.server.token, "VersionStages": ["AWSCURRENT"]}
            )
        elif self.path.startswith("/v2/namespaces/"):
            self.count("documents")
            self._answer(200, self.server.document)
        elif self.path == "/_stats":
            self._answer(200, dict(STATS))
        else:
            self._answer(404, {"description": "not found"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("X-Amz-Target") == "secretsmanager.GetSecretValue":
            self.count("secrets_manager")
            self._answer(
                200,
                {
                    "ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-AbCdEf",
                    "Name": "bench",
                    "VersionId": "00000000-0000-4000-8000-000000000001",
                    "SecretString": self.server.token,
                    "VersionStages": ["AWSCURRENT"],
                    "CreatedDate": 1764547200.0,
                },
                "application/x-amz-json-1.1",
            )
        elif self.path.startswith("/api/json/v1/") and b"findOne" in body:
            self.count("data")
            document = {"_id": self.server.document["orderId"], **self.server.document}
            document.pop("orderId")
            self._answer(200, {"data": {"document": document}})
        else:
            self._answer(404, {"errors": [{"message": "not found"}]})

    def _answer(self, status: int, body: dict[str, Any], content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--document-file", type=Path, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    socketserver.TCPServer.allow_reuse_address = True
    server = StandIn(
        ("127.0.0.1", arguments.port), json.loads(arguments.document_file.read_text()), arguments.token
    )
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
