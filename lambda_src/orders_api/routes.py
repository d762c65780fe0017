"""The /orders routes. Each parses its input, calls one function of ``lifecycle``, shapes the answer."""

# No "from __future__ import annotations": Powertools reads these annotations at run time.

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from orders_api import lifecycle
from orders_api.identity import Caller, NotAuthenticated
from orders_api.models import ErrorBody, NewOrder, Order, OrderPage, OrderStatus, StatusChange
from orders_api.names import JSON
from orders_api.observability import logger, metrics, tracer
from orders_api.store.factory import get_cursor_seal, get_store

router = APIGatewayHttpRouter()

OrderId = Annotated[UUID, Path(description="The order's id, a UUID.")]


# What a request with a JSON body can get wrong, before any order logic runs.
BODY_ERRORS: dict[str, str] = {
    "e400": "The body is not valid JSON, nests deeper than 32 levels, or has a number longer than 100 "
    "characters or of a size outside 1e-308 to 1e308.",
    "e413": "The body is over 64 KiB.",
    "e415": "The body is not sent as application/json (any letter case; UTF-8 only).",
}


def error_responses(**described: str) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries for error answers (``e409="..."``), plus the store failures every route can meet."""
    entries = {
        **{int(code.removeprefix("e")): text for code, text in sorted(described.items())},
        401: "The request carries no caller identity (unsigned, or signed for another API).",
        422: "The request is not valid; `errors` names each offending field.",
        502: "The order store failed or rejected the service's credentials.",
        503: "The order store is unavailable.",
        504: "The order store did not answer in time.",
    }
    return {
        code: {"description": text, "content": {JSON: {"model": ErrorBody}}} for code, text in entries.items()
    }


# Who may call, as API Gateway checks it before the function runs: a SigV4 signature (apiAuth=iam) or
# a bearer JWT with the route's scope (apiAuth=jwt). Keep equal to cdk_app/api.py (a test does).
READ_SECURITY: list[dict[str, list[str]]] = [{"sigv4": []}, {"jwt": ["orders/read"]}]
WRITE_SECURITY: list[dict[str, list[str]]] = [{"sigv4": []}, {"jwt": ["orders/write"]}]


def current_caller() -> Caller:
    """The caller of the request being handled (resolved by the handler before routing)."""
    caller = router.context.get("caller")
    if not isinstance(caller, Caller):
        raise NotAuthenticated()
    return caller


@router.post(
    "/orders",
    summary="Create an order",
    security=WRITE_SECURITY,
    responses={
        200: {
            "description": "Replay of an Idempotency-Key: the order stored by the first call.",
            "content": {JSON: {"model": Order}},
        },
        201: {"description": "The stored order.", "content": {JSON: {"model": Order}}},
        **error_responses(
            **BODY_ERRORS,
            e409="The Idempotency-Key was used with a different body, or its order has been deleted.",
        ),
    },
)
@tracer.capture_method(capture_response=False)
def create_order(
    new_order: Annotated[NewOrder, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            pattern=r"^[!-+\--~]+$",
            description=(
                "Repeat a create safely: the same key and body return the same order. 1-128 visible "
                "ASCII characters except the comma (API Gateway joins repeated headers with commas); "
                "keys are the caller's own: another caller's identical key names another order."
            ),
        ),
    ] = None,
) -> Response[Order]:
    order, created = lifecycle.create_order(get_store(), current_caller(), new_order, idempotency_key)
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


@router.get(
    "/orders",
    summary="List orders, a page at a time",
    security=READ_SECURITY,
    responses={
        200: {"description": "A page of orders.", "content": {JSON: {"model": OrderPage}}},
        **error_responses(
            e400="The cursor was not issued by this API to this caller, was changed, or was issued "
            "for another status or owner filter.",
            e403="Only admins may filter by owner.",
        ),
    },
)
@tracer.capture_method(capture_response=False)
def list_orders(
    limit: Annotated[int, Query(ge=1, le=20, description="Orders per page.")] = 20,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=4096, description="`nextCursor` of the previous page.")
    ] = None,
    status: Annotated[OrderStatus | None, Query(description="Only orders with this status.")] = None,
    owner: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=512,
            description="Admins only: the orders of this caller (e.g. iam:arn:aws:iam::123456789012:role/x).",
        ),
    ] = None,
) -> OrderPage:
    page = lifecycle.list_orders(
        get_store(), get_cursor_seal(), current_caller(), limit, cursor, status, owner
    )
    return OrderPage(items=[order.public() for order in page.orders], nextCursor=page.next_cursor)


@router.get(
    "/orders/<orderId>",
    summary="Get an order",
    security=READ_SECURITY,
    responses={
        200: {"description": "The order.", "content": {JSON: {"model": Order}}},
        **error_responses(e404="No such order."),
    },
)
@tracer.capture_method(capture_response=False)
def get_order(orderId: OrderId) -> Order:
    return lifecycle.get_order(get_store(), current_caller(), orderId).public()


@router.patch(
    "/orders/<orderId>",
    summary="Change an order's status",
    security=WRITE_SECURITY,
    responses={
        200: {"description": "The updated order.", "content": {JSON: {"model": Order}}},
        **error_responses(
            **BODY_ERRORS,
            e404="No such order.",
            e409="The lifecycle does not allow this change, or another request changed the order meanwhile.",
        ),
    },
)
@tracer.capture_method(capture_response=False)
def change_status(orderId: OrderId, change: Annotated[StatusChange, Body()]) -> Order:
    order = lifecycle.change_status(get_store(), current_caller(), orderId, change.status)
    metrics.add_metric(name="OrderStatusChanged", unit=MetricUnit.Count, value=1)
    logger.info("Order status changed", order_id=str(orderId), status=order.status.value)
    return order.public()


@router.delete(
    "/orders/<orderId>",
    summary="Delete an order",
    security=WRITE_SECURITY,
    responses={204: {"description": "Deleted, or was already gone.", "content": {}}, **error_responses()},
)
@tracer.capture_method(capture_response=False)
def delete_order(orderId: OrderId) -> Response[None]:
    lifecycle.delete_order(get_store(), current_caller(), orderId)
    return Response(status_code=204)
