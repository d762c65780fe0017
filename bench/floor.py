"""The floor of ``make bench``: the libraries both handlers are built on, imported and set up, nothing else.

Powertools' Logger, Metrics and HTTP resolver with validation, pydantic with one model, and a
``requests.Session``; no boto3, no X-Ray SDK, no route, no request. Any handler built on these
libraries starts slower than this, so its ratio to the textbook handler is a lower bound for the
project's cold path. Importing this module is the whole measurement.
"""

# No "from __future__ import annotations", as in the handlers: pydantic reads the annotations.

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
