"""The /orders routes. Each parses its input, calls one function of ``lifecycle``, shapes the answer."""

# No "from __future__ import annotations": Powertools reads these annotations at run time.

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from orders_api import lifecycle
from orders_api.models import NewOrder, Order, OrderPage, OrderStatus, StatusChange
from orders_api.observability import logger, metrics, tracer
from orders_api.store.factory import get_store

router = APIGatewayHttpRouter()

JSON = "application/json"
OrderId = Annotated[UUID, Path(description="The order's id, a UUID.")]


@router.post(
    "/orders",
    summary="Create an order",
    responses={
        200: {"description": "Replay of an Idempotency-Key: the order stored by the first call."},
        201: {"description": "The stored order."},
        409: {"description": "The Idempotency-Key was used with a different body."},
        413: {"description": "The body is over 64 KiB."},
        422: {"description": "The body is not a valid new order."},
    },
)
@tracer.capture_method
def create_order(
    new_order: Annotated[NewOrder, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            description="Repeat a create safely: the same key and body return the same order.",
        ),
    ] = None,
) -> Response[Order]:
    order, created = lifecycle.create_order(get_store(), new_order, idempotency_key)
    metrics.add_metric(
        name="OrderCreated" if created else "OrderCreateReplayed", unit=MetricUnit.Count, value=1
    )
    logger.info("Order created" if created else "Order create replayed", order_id=str(order.orderId))
    return Response(
        status_code=201 if created else 200,
        content_type=JSON,
        body=order.public(),
        headers={"Location": f"/orders/{order.orderId}"},
    )


@router.get("/orders", summary="List orders, a page at a time")
@tracer.capture_method
def list_orders(
    limit: Annotated[int, Query(ge=1, le=20, description="Orders per page.")] = 20,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=4096, description="`nextCursor` of the previous page.")
    ] = None,
    status: Annotated[OrderStatus | None, Query(description="Only orders with this status.")] = None,
) -> OrderPage:
    page = lifecycle.list_orders(get_store(), limit, cursor, status)
    return OrderPage(items=[order.public() for order in page.orders], nextCursor=page.next_cursor)


@router.get("/orders/<orderId>", summary="Get an order", responses={404: {"description": "No such order."}})
@tracer.capture_method
def get_order(orderId: OrderId) -> Order:
    return lifecycle.get_order(get_store(), orderId).public()


@router.patch(
    "/orders/<orderId>",
    summary="Change an order's status",
    responses={404: {"description": "No such order."}, 409: {"description": "Transition not allowed."}},
)
@tracer.capture_method
def change_status(orderId: OrderId, change: Annotated[StatusChange, Body()]) -> Order:
    order = lifecycle.change_status(get_store(), orderId, change.status)
    metrics.add_metric(name="OrderStatusChanged", unit=MetricUnit.Count, value=1)
    logger.info("Order status changed", order_id=str(orderId), status=order.status.value)
    return order.public()


@router.delete("/orders/<orderId>", summary="Delete an order", responses={204: {"description": "Deleted."}})
@tracer.capture_method
def delete_order(orderId: OrderId) -> Response[None]:
    lifecycle.delete_order(get_store(), orderId)
    return Response(status_code=204)
