"""Health answers: ``/health`` of the documents port and the health checker's ``/checker/*``."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from localdev.stargate.core.database import DatabaseClosed
from localdev.stargate.core.routing import Request, Response, Route, text_response
from localdev.stargate.core.storage import EmulatorStore


class HealthApi:
    """Liveness and readiness; ready means the database answers a query."""

    def __init__(self, store: EmulatorStore) -> None:
        """Report on ``store``."""
        self._store = store

    def documents_routes(self) -> list[Route]:
        """``GET /health``, which Stargate serves on the documents port."""
        return [Route("/health", {"GET": self.alive})]

    def checker_routes(self) -> list[Route]:
        """``/checker/liveness`` and ``/checker/readiness``, the health checker's port in Stargate."""
        return [
            Route("/checker/liveness", {"GET": self.liveness}),
            Route("/checker/readiness", {"GET": self.readiness}),
        ]

    def alive(self, _request: Request, _params: Mapping[str, str]) -> Response:
        """200 while the server runs."""
        return text_response(200, "It's Alive")

    def liveness(self, _request: Request, _params: Mapping[str, str]) -> Response:
        """200 ``UP`` while the server runs."""
        return text_response(200, "UP")

    def readiness(self, _request: Request, _params: Mapping[str, str]) -> Response:
        """200 ``READY`` when the database answers, else 503."""
        try:
            self._store.list_namespaces()
        except (sqlite3.Error, DatabaseClosed):
            return text_response(503, "NOT READY")
        return text_response(200, "READY")
