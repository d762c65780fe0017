"""Domain errors. Each is mapped to an HTTP answer once, in ``service.py``; nothing else knows HTTP."""

from __future__ import annotations


class OrdersError(Exception):
    """Base class of every error this service raises on purpose."""


class OrderNotFound(OrdersError):
    """No order has the requested id."""

    def __init__(self, order_id: object) -> None:
        super().__init__(f"Order {order_id} was not found.")


class IdempotencyKeyReused(OrdersError):
    """An Idempotency-Key was sent again with a different request body."""

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body; "
            "use a new key for a different order."
        )


class OrderDeleted(OrdersError):
    """An Idempotency-Key was sent again after the order it created was deleted."""

    def __init__(self) -> None:
        super().__init__(
            "The order this Idempotency-Key created has been deleted; use a new key to order again."
        )


class TransitionNotAllowed(OrdersError):
    """The requested status change is not one the order lifecycle allows."""

    def __init__(self, current: str, requested: str, allowed: tuple[str, ...] = ()) -> None:
        then = (
            f"a {current} order can become {' or '.join(allowed)}"
            if allowed
            else f"a {current} order cannot change any more"
        )
        super().__init__(f"An order cannot change status from {current} to {requested}; {then}.")


class ConcurrentUpdate(OrdersError):
    """Another request changed the order between our read and our write."""

    def __init__(self, order_id: object = None) -> None:
        which = f"Order {order_id}" if order_id is not None else "The order"
        super().__init__(f"{which} was changed by another request at the same time; read it and retry.")


class InvalidCursor(OrdersError):
    """A pagination cursor was not issued by this API, or for a different query."""

    def __init__(self, reason: str = "it was not issued by this API") -> None:
        super().__init__(f"The cursor is not valid: {reason}.")


class NotAllowed(OrdersError):
    """The caller is known but may not do this (HTTP 403)."""


class ConfigurationError(OrdersError):
    """Settings are missing or invalid. The message names the settings, never their values.

    The message is for the operator's log; callers get only ``public_message`` and the request id.
    """

    status_code = 500
    public_message = "The service is misconfigured."


class StoreError(OrdersError):
    """The order store failed or answered something unexpected (HTTP 502).

    The message names the failure for the operator's log (it may name error codes, the keyspace or the
    collection, never a token); callers get only ``public_message``, which says which kind of failure.
    """

    status_code = 502
    public_message = "The order store failed to carry out the request."
    # False when the store cannot have applied the request (no connection, or it said 429/503).
    may_have_applied = True


class StoreAnswerBroken(StoreError):
    """The store's answer broke off or could not be read (HTTP 502); worth another attempt."""

    public_message = "The order store's answer was cut off or could not be read."


class StoreCredentialsRejected(StoreError):
    """The store refused the token the service sent, even after reading it again (HTTP 502)."""

    public_message = "The order store refused the service's credentials."


class StoreUnavailable(StoreError):
    """The order store cannot be reached or says it is unavailable (HTTP 503)."""

    status_code = 503
    public_message = "The order store is unavailable; try again shortly."


class StoreTimeout(StoreError):
    """The order store did not answer in time (HTTP 504)."""

    status_code = 504
    public_message = "The order store did not answer in time; try again shortly."
