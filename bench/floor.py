"""The floor of ``make bench``: the libraries both handlers are built on, imported and set up, nothing else.

Powertools' Logger, Metrics and HTTP resolver with validation, pydantic with one model, and a
``requests.Session``; no boto3, no X-Ray SDK, no route, no request. Importing this module is the whole
measurement, in two ways:

- as a handler imports them (``BENCH_FLOOR`` unset);
- ``BENCH_FLOOR=lean``: with what the project does to start sooner (the imports inside
  ``orders_api.startup.init_phase()``, and ``PYDANTIC_DISABLE_PLUGINS`` set by ``bench/run.py``). No
  handler built on these libraries with those measures starts faster than this, which makes it a lower
  bound for the project's cold path.

``BENCH_FLOOR_UPTO`` stops after one of ``STAGES`` (the libraries are imported in that order), so that
``make bench BENCH_ARGS=--instructions`` can say what each adds to the one before.
"""

# No "from __future__ import annotations", as in the handlers: pydantic reads the annotations.

import contextlib
import os

from orders_api.startup import init_phase

# In the order they are imported: what a stage's modules share with an earlier one is the earlier's.
STAGES = ("requests", "pydantic", "logger and metrics", "resolver")
LAST = STAGES.index(os.environ.get("BENCH_FLOOR_UPTO", STAGES[-1]))


def reached(stage: str) -> bool:
    return STAGES.index(stage) <= LAST


with init_phase() if os.environ.get("BENCH_FLOOR") == "lean" else contextlib.nullcontext():
    import requests

    session = requests.Session()
    if reached("pydantic"):
        from pydantic import BaseModel

        class Order(BaseModel):
            orderId: str

    if reached("logger and metrics"):
        from aws_lambda_powertools import Logger, Metrics

        logger = Logger()
        metrics = Metrics()
    if reached("resolver"):
        from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

        app = APIGatewayHttpResolver(enable_validation=True)
