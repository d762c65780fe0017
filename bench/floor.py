"""The floor of ``make bench``: the libraries both handlers are built on, imported and set up, nothing else.

Powertools' Logger, Metrics and HTTP resolver with validation, pydantic with one model, and a
``requests.Session``; no boto3, no X-Ray SDK, no route, no request. Importing this module is the whole
measurement, in two ways:

- as a handler imports them (``BENCH_FLOOR`` unset);
- ``BENCH_FLOOR=lean``: with what the project does to start sooner (the imports inside
  ``orders_api.startup.init_phase()``, and ``PYDANTIC_DISABLE_PLUGINS`` set by ``bench/run.py``). No
  handler built on these libraries with those measures starts faster than this, which makes it a lower
  bound for the project's cold path.
"""

# No "from __future__ import annotations", as in the handlers: pydantic reads the annotations.

import contextlib
import os

from orders_api.startup import init_phase

with init_phase() if os.environ.get("BENCH_FLOOR") == "lean" else contextlib.nullcontext():
    import requests
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from pydantic import BaseModel

    class Order(BaseModel):
        orderId: str

    logger = Logger()
    metrics = Metrics()
    app = APIGatewayHttpResolver(enable_validation=True)
    session = requests.Session()
