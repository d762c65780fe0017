"""A Stargate developer-mode container started with Testcontainers, ready to take Document API calls.

``start_stargate(StargateContainerSettings.from_env())`` starts the image (``STARGATE_IMAGE``, default
``stargateio/stargate-4_0:v1.0.91``) with the developer-mode environment, waits until the health
checker answers ``GET :8084/checker/readiness`` with 200, then until ``POST :8081/v1/auth`` hands out a
token (the default role is created asynchronously, so early logins answer 401). What cannot be
helped on this machine (no Docker engine, an image that is neither present nor pullable) raises
``BackendUnavailable`` with the reason, for the caller to skip; a container that starts but never
gets ready is a failure.

The local image from ``scripts/docker/build-embedded-image.sh`` (``orders-embedded-stargate:local``) has the
same ports and endpoints, so the same steps run against it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

DEFAULT_IMAGE = "stargateio/stargate-4_0:v1.0.91"
AUTH_PORT = 8081
DOCUMENTS_PORT = 8082
HEALTH_PORT = 8084
DEVELOPER_MODE_ENV = {
    "CLUSTER_NAME": "stargate",
    "CLUSTER_VERSION": "4.0",
    "DEVELOPER_MODE": "true",
    "SIMPLE_SNITCH": "true",
}
USERNAME = "cassandra"
PASSWORD = "cassandra"
_PROBE_TIMEOUT = (2.0, 5.0)
_POLL_INTERVAL_S = 1.0


class BackendUnavailable(Exception):
    """The container backend cannot run on this machine; the message says why (a skip reason)."""


@dataclass(frozen=True)
class StargateContainerSettings:
    """What to start and how long to wait for it."""

    image: str = DEFAULT_IMAGE
    ready_timeout_s: float = 300.0
    auth_timeout_s: float = 120.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> StargateContainerSettings:
        """``STARGATE_IMAGE``, ``STARGATE_READY_TIMEOUT_S`` and ``STARGATE_AUTH_TIMEOUT_S``."""
        env = os.environ if environ is None else environ
        return cls(
            image=env.get("STARGATE_IMAGE") or DEFAULT_IMAGE,
            ready_timeout_s=float(env.get("STARGATE_READY_TIMEOUT_S") or cls.ready_timeout_s),
            auth_timeout_s=float(env.get("STARGATE_AUTH_TIMEOUT_S") or cls.auth_timeout_s),
        )


@dataclass
class RunningStargate:
    """A started, ready container: its URLs on this host, a token, and how long start-up took."""

    image: str
    auth_url: str
    documents_url: str
    health_url: str
    token: str
    seconds_to_ready: float
    seconds_to_token: float
    reaper: bool  # whether Testcontainers' Ryuk also watches the container
    _container: Any  # testcontainers' DockerContainer (untyped)

    def logs(self) -> str:
        """The container's output so far (stdout and stderr)."""
        return _logs(self._container)

    def stop(self) -> None:
        """Stop and remove the container."""
        self._container.stop()


def start_stargate(settings: StargateContainerSettings) -> RunningStargate:
    """Start the container and wait until it is ready and hands out tokens (see the module docstring)."""
    _ensure_image(settings.image)
    reaper = _reaper_usable()
    from testcontainers.core.container import DockerContainer

    container = DockerContainer(settings.image).with_envs(**DEVELOPER_MODE_ENV)
    container.with_exposed_ports(AUTH_PORT, DOCUMENTS_PORT, HEALTH_PORT)
    started = time.monotonic()
    try:
        container.start()
        auth_url, documents_url, health_url = _urls(container)
        session = requests.Session()
        _wait_until_ready(session, health_url, container, settings.ready_timeout_s)
        seconds_to_ready = time.monotonic() - started
        token = _login(session, auth_url, container, settings.auth_timeout_s)
        seconds_to_token = time.monotonic() - started
    except BaseException:
        container.stop()
        raise
    return RunningStargate(
        settings.image,
        auth_url,
        documents_url,
        health_url,
        token,
        seconds_to_ready,
        seconds_to_token,
        reaper,
        container,
    )


def _urls(container: Any) -> tuple[str, str, str]:
    """Where the auth, documents and health ports are mapped on this host."""
    try:
        host = container.get_container_host_ip()
        auth, documents, health = (
            container.get_exposed_port(port) for port in (AUTH_PORT, DOCUMENTS_PORT, HEALTH_PORT)
        )
    except Exception as error:
        # Typically the container exited at once; its output says why.
        logs = _logs(container)[-4000:]
        raise RuntimeError(f"the Stargate container has no port mapping ({error}):\n{logs}") from error
    return f"http://{host}:{auth}", f"http://{host}:{documents}", f"http://{host}:{health}"


def docker_client() -> Any:
    """A client of the Docker engine that answers, else ``BackendUnavailable("no Docker engine: ...")``."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError as error:
        raise BackendUnavailable(f"the docker package is not installed: {error}") from error
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except DockerException as error:
        raise BackendUnavailable(f"no Docker engine: {error}") from error
    return client


def _ensure_image(image: str) -> None:
    """Pull ``image`` unless it is present, else ``BackendUnavailable``."""
    try:
        import testcontainers.core.container  # noqa: F401 - only checks that it is installed
    except ImportError as error:
        raise BackendUnavailable(f"testcontainers is not installed: {error}") from error
    from docker.errors import DockerException

    client = docker_client()
    try:
        _image_present_or_pulled(client, image)
    except DockerException as error:
        reason = getattr(error, "explanation", None) or error  # the engine's words, not the HTTP wrapper's
        raise BackendUnavailable(f"image {image} is not present and cannot be pulled: {reason}") from error


def _reaper_usable() -> bool:
    """Keep Testcontainers' reaper (Ryuk) only where its image can run; else switch it off.

    Ryuk removes containers left behind by a killed test run, but its image must be present or
    pullable. Where it is not (no registry access), the session fixture's finalizer still removes ours.
    """
    from docker.errors import DockerException
    from testcontainers.core.config import testcontainers_config

    if testcontainers_config.ryuk_disabled:
        return False
    try:
        _image_present_or_pulled(docker_client(), testcontainers_config.ryuk_image)
    except DockerException:
        testcontainers_config.ryuk_disabled = True
        return False
    return True


def _image_present_or_pulled(client: Any, image: str) -> None:
    from docker.errors import ImageNotFound

    try:
        client.images.get(image)
    except ImageNotFound:
        client.images.pull(image)


def _wait_until_ready(session: requests.Session, health_url: str, container: Any, timeout_s: float) -> None:
    """Poll the health checker until it answers 200; fail at once if the container exits."""
    last = "no answer yet"

    def ready() -> bool:
        nonlocal last
        try:
            response = session.get(f"{health_url}/checker/readiness", timeout=_PROBE_TIMEOUT)
        except requests.RequestException as error:
            last = type(error).__name__
            return False
        last = f"HTTP {response.status_code}"
        return response.status_code == 200

    _poll(ready, container, timeout_s, lambda: f"not ready after {timeout_s:.0f} s (last: {last})")


def _login(session: requests.Session, auth_url: str, container: Any, timeout_s: float) -> str:
    """A token from ``/v1/auth``, retrying while the default role is still being created."""
    token = ""
    last = "no answer yet"

    def logged_in() -> bool:
        nonlocal token, last
        try:
            response = session.post(
                f"{auth_url}/v1/auth",
                json={"username": USERNAME, "password": PASSWORD},
                timeout=_PROBE_TIMEOUT,
            )
        except requests.RequestException as error:
            last = type(error).__name__
            return False
        last = f"HTTP {response.status_code}"
        if response.status_code in (200, 201):
            token = str(response.json()["authToken"])
            return True
        if response.status_code == 401 or response.status_code >= 500:
            return False  # the role is not there yet, or the auth service is still starting
        raise RuntimeError(f"POST /v1/auth answered {last}: {response.text[:200]}")

    _poll(logged_in, container, timeout_s, lambda: f"no token after {timeout_s:.0f} s (last: {last})")
    return token


def _poll(done: Callable[[], bool], container: Any, timeout_s: float, failure: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status in ("exited", "dead"):
            raise RuntimeError(f"the Stargate container {wrapped.status}:\n{_logs(container)[-4000:]}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"Stargate container {failure()}:\n{_logs(container)[-4000:]}")
        time.sleep(_POLL_INTERVAL_S)


def _logs(container: Any) -> str:
    try:
        return bytes(container.get_wrapped_container().logs()).decode(errors="replace")
    except Exception as error:
        return f"(logs unavailable: {error})"
