"""The baseline of ``make bench``: the order handler a newcomer writes from the Powertools documentation.

HTTP resolver with validation, Logger, Tracer (the X-Ray SDK, patching requests), Metrics, the store
token from ``parameters.get_secret`` (boto3, cached 5 s), one ``requests.Session``, a pydantic model.
Only ``GET /orders/<id>``, against the same store and settings as the project's handler. It is not
part of the project: it exists so the project's figures are ratios to something everyone knows.
"""

# No "from __future__ import annotations": Powertools reads the annotations at run time.

import os
from datetime import datetime
from typing import Any

import requests
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

tracer = Tracer()
logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)
session = requests.Session()

STORE_API = os.environ.get("ORDERS_STORE_API", "data")
BASE_URL = os.environ["STORE_URL"].rstrip("/")
NAMESPACE = os.environ["STORE_NAMESPACE"]
COLLECTION = os.environ.get("STORE_COLLECTION", "orders")


class Order(BaseModel):
    orderId: str
    productName: str
    productQuantity: int
    productPrice: int
    status: str
    createdAt: datetime
    updatedAt: datetime


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str) -> Order:
    token = parameters.get_secret(os.environ["STORE_SECRET_ID"])
    if STORE_API == "data":
        response = session.post(
            f"{BASE_URL}/v1/{NAMESPACE}/{COLLECTION}",
            json={"findOne": {"filter": {"_id": order_id}}},
            headers={"Token": str(token)},
            timeout=5,
        )
        document: dict[str, Any] = response.json()["data"]["document"]
        document["orderId"] = document.pop("_id")
    else:
        response = session.get(
            f"{BASE_URL}/v2/namespaces/{NAMESPACE}/collections/{COLLECTION}/{order_id}",
            params={"raw": "true"},
            headers={"X-Cassandra-Token": str(token)},
            timeout=5,
        )
        document = response.json()
    return Order(**document)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
