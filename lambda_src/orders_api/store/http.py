"""The one HTTP session of the process, with the retry discipline every store client shares."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

# Methods that can be repeated without changing the outcome. POST is absent: a repeated POST could
# store twice. Connection failures before a request is sent are retried for every method.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = (502, 503, 504)


def new_session(user_agent: str = "orders-api") -> requests.Session:
    """A session with keep-alive and bounded back-off retries on the calls that are safe to repeat.

    Create it once per process and reuse it across warm invocations.
    """
    retry = Retry(
        total=2,
        connect=2,
        read=2,
        status=2,
        other=0,
        backoff_factor=0.2,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=IDEMPOTENT_METHODS,
        respect_retry_after_header=False,  # a store asking for minutes would outlive the API's 30 s
        raise_on_status=False,  # hand the last answer to the caller, which maps it to a domain error
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    return session
