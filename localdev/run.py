"""``make run``: the API on localhost, backed by the embedded Stargate-compatible server.

With ``STORE_URL`` set (and a token or credentials), the API uses that Stargate or Astra instead.
Settings: ``PORT`` (3000), ``HOST`` (127.0.0.1), ``DATA_DIR`` (.local-data), ``STARGATE_PORT`` (8082),
``LOCAL_CONCURRENCY``: how many execution environments may run the function at once (processes, each
with its own cold start, as in Lambda; ``localdev/environments.py``). By default the CPU count, and 1
with the Document API store, as the stack deploys it (reserved concurrency 1, docs/stores/document-api.md).
Callers sign in with local bearer tokens (``make token``, ``localdev/tokens.py``) as with ``apiAuth=jwt``;
a request without one is the local caller ``local``. Cursors are sealed with a random key kept in
``DATA_DIR/cursor-key`` unless ``CURSOR_KEY`` is set.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from localdev.stargate.server import DEFAULT_PASSWORD as EMBEDDED_PASSWORD
from localdev.stargate.server import DEFAULT_USERNAME as EMBEDDED_USERNAME
from orders_api import names

DEFAULT_NAMESPACE = "orders"
# Each environment is a Python process of about 60 MB.
MAX_LOCAL_CONCURRENCY = 64


def main() -> int:
    """Start everything, print how to call it, serve until Ctrl-C or SIGTERM."""
    host = os.environ.get("HOST", "127.0.0.1")
    try:
        port = port_setting("PORT", "3000")
        stargate_port = port_setting("STARGATE_PORT", "8082")
        refuse_placeholder(store_setting(names.STORE_URL))
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    # Local runs have no X-Ray daemon and no CloudWatch: keep tracing and metrics quiet.
    os.environ.setdefault(names.POWERTOOLS_TRACE_DISABLED, "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_DEV", "false")
    # Callers sign in with local JWTs (make token), checked here as API Gateway's JWT authorizer would;
    # a request without a token is the local caller "local". ORDERS_API_AUTH=none: one anonymous caller.
    os.environ.setdefault(names.ORDERS_API_AUTH, "jwt")

    if not os.environ.get(names.CURSOR_KEY) and not os.environ.get(names.CURSOR_SECRET_ID):
        os.environ[names.CURSOR_KEY] = local_cursor_key(os.environ.get("DATA_DIR", ".local-data"))

    from orders_api.errors import ConfigurationError, StoreError
    from orders_api.settings import StoreSettings

    stargate = None
    if not store_setting(names.STORE_URL):
        from localdev.stargate import start_in_thread

        data_dir = os.environ.get("DATA_DIR", ".local-data")
        try:
            stargate = start_in_thread(host="127.0.0.1", port=stargate_port, data_dir=data_dir)
        except OSError as error:
            print(
                f"Cannot start the embedded Stargate on port {stargate_port} ({error}); "
                "set STARGATE_PORT to a free port.",
                file=sys.stderr,
            )
            return 1
        namespace = store_setting(names.STORE_NAMESPACE) or os.environ.setdefault(
            names.STORE_NAMESPACE, DEFAULT_NAMESPACE
        )
        try:
            create_namespace(stargate.url, namespace)
        except StoreError as error:
            print(f"Could not create namespace {namespace}: {error}", file=sys.stderr)
            stargate.stop()
            return 1
        # The embedded server speaks the Document API under / and the Data API under /api/json.
        data_api = os.environ.get(names.ORDERS_STORE_API, names.DEFAULT_STORE_API) == names.DATA_API
        os.environ[names.STORE_URL] = f"{stargate.url}/api/json" if data_api else stargate.url
        os.environ[names.STORE_USERNAME] = EMBEDDED_USERNAME
        os.environ[names.STORE_PASSWORD] = EMBEDDED_PASSWORD
        print(f"Embedded Stargate: {stargate.url} (data in {os.path.abspath(data_dir)})", flush=True)

    try:
        settings = StoreSettings.from_env()
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        if stargate is not None:
            stargate.stop()
        return 2

    from localdev.api import LocalApiServer
    from localdev.environments import ExecutionEnvironments
    from localdev.tokens import LocalIssuer

    try:
        concurrency = local_concurrency(settings.store_api)
    except ValueError as error:
        print(error, file=sys.stderr)
        if stargate is not None:
            stargate.stop()
        return 2
    issuer = LocalIssuer(os.environ.get("DATA_DIR", ".local-data"))
    authorize = issuer.authorize if os.environ[names.ORDERS_API_AUTH] == "jwt" else None
    environments = ExecutionEnvironments(concurrency)
    try:
        server = LocalApiServer(
            (host, port), environments, authorize=authorize, access_log=print_line, serve_docs=True
        )
    except OSError as error:
        print(f"Cannot serve the API on {host}:{port} ({error}); set PORT to a free port.", file=sys.stderr)
        if stargate is not None:
            stargate.stop()
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"Orders API: {server.url} (store: {settings.store_api} API at {settings.base_url}, "
        f"namespace {settings.namespace}; up to {concurrency} execution environment"
        f"{'s' if concurrency > 1 else ''}, LOCAL_CONCURRENCY)"
    )
    print(f"Read and try it in a browser: {server.url}/docs (Swagger UI)")
    print("Try:")
    print(
        f"  curl -s -w '\\n' -X POST {server.url}/orders -H 'Content-Type: {names.JSON}' "
        """-d '{"productName":"Coffee beans","productQuantity":2,"productPrice":1250}'"""
    )
    print(f"  curl -s -w '\\n' {server.url}/orders", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        environments.close()
        if stargate is not None:
            stargate.stop()
    return 0


_CONSOLE = threading.Lock()


def port_setting(name: str, default: str, env: Mapping[str, str] = os.environ) -> int:
    """A port number from the environment; ValueError says which setting and what it takes."""
    value = env.get(name, "").strip() or default
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise ValueError(f"{name} must be a port number from 0 to 65535 (0: any free port), got {value!r}.")
    return int(value)


def refuse_placeholder(url: str) -> None:
    """ValueError when STORE_URL still holds the example's placeholders: every request would fail."""
    if "<" in url or ">" in url or "DATABASE_ID" in url:
        raise ValueError(
            f"STORE_URL still holds a placeholder ({url}): put in your database's endpoint, or leave "
            "STORE_URL unset for the embedded server."
        )


def print_line(line: str) -> None:
    """One access-log line on the console, whole: request threads print at once, and print() would
    write the line and its newline separately, interleaving theirs."""
    with _CONSOLE:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def local_concurrency(store_api: str, env: Mapping[str, str] = os.environ) -> int:
    """How many execution environments may run at once: ``LOCAL_CONCURRENCY``, or the default for
    ``store_api`` (the CPU count; 1 for the Document API, as deployed). ValueError says what to set."""
    setting = env.get("LOCAL_CONCURRENCY", "").strip()
    if not setting:
        return 1 if store_api == names.DOCUMENT_API else max(1, os.cpu_count() or 1)
    if not setting.isdigit() or not 1 <= int(setting) <= MAX_LOCAL_CONCURRENCY:
        raise ValueError(
            f"LOCAL_CONCURRENCY must be a whole number from 1 to {MAX_LOCAL_CONCURRENCY}, got {setting!r}."
        )
    return int(setting)


def store_setting(name: str) -> str:
    """A store setting as the function reads it: under its name, or under its former one."""
    return os.environ.get(name) or os.environ.get(names.FORMER_NAMES[name], "")


def local_cursor_key(data_dir: str) -> str:
    """The key ``make run`` seals cursors with: random, kept beside the data so cursors survive a restart."""
    path = Path(data_dir) / "cursor-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_namespace(url: str, namespace: str) -> None:
    """Create the namespace (keyspace) on the embedded server; it is shared by both of its APIs."""
    from localdev import schema
    from orders_api.store.http import new_session
    from orders_api.store.tokens import Login, PasswordLogin

    session = new_session()
    login = PasswordLogin(url, Login(EMBEDDED_USERNAME, EMBEDDED_PASSWORD), session, (3.05, 10.0))
    schema.create_namespace(url, namespace, login, session)


if __name__ == "__main__":
    sys.exit(main())
