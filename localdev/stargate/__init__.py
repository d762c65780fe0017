"""An embedded Stargate-compatible document server for local runs and tests (never deployed).

It speaks Stargate v1's auth API (``POST /v1/auth``), Document API v2 (``/v2/...``) and the Astra
Data API (``/api/json/v1/...``) over SQLite::

    from localdev.stargate import start_in_thread

    server = start_in_thread(port=0, data_dir=tmp_path)
    ...  # talk to server.url
    server.stop()

or from a shell: ``python -m localdev.stargate --port 8082 --data-dir .local-data``.

Layout: ``core/`` (HTTP server, routing, SQLite storage, tokens and auth, health, and the JSON values,
paths, filters and page states both dialects share), ``document_api/`` and ``data_api/`` (one
subpackage per dialect: request handling, models, errors), ``server.py`` (roles and ports).
``python -m localdev.stargate.coverage`` prints what is emulated (``COVERAGE.md``).
"""

from localdev.stargate.server import (
    ALL_ROLES,
    Role,
    RunningServer,
    StargateBackend,
    open_backend,
    start_in_thread,
)

__all__ = ["ALL_ROLES", "Role", "RunningServer", "StargateBackend", "open_backend", "start_in_thread"]
