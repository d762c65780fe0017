# Random choices here pick test data, not secrets.
# ruff: noqa: S311
"""Locust load test for the Orders API: each simulated user behaves like one client of the API.

A user creates orders (one in six with an ``Idempotency-Key`` that it sends a second time, which must
replay the first answer with 200), reads its orders back, lists orders and follows ``nextCursor`` for a
page or two, moves its orders along the lifecycle (PENDING -> PAID -> SHIPPED -> DELIVERED, some
cancelled) and deletes some. Users only touch their own orders, so every answer is known in advance:
any other status, a 5xx or a connection error is a Locust failure. Requests are named by route
(``/orders/{id}``) so the statistics group by route, not by order id. There is no think time: each
user sends its next request as soon as the previous one is answered.

Locust has no request cap of its own, so this file adds ``--max-requests N``: the run stops once N
requests have been answered (0, the default, means no cap). ``bench/load/run.py`` (``make load``)
starts the API and runs this file; by hand::

    .venv/bin/locust -f bench/load/locustfile.py --headless -H http://127.0.0.1:3000 -u 8 -t 30s
"""

from __future__ import annotations

import logging
import random
import uuid
from typing import Any

import gevent
import locust.stats
from locust import HttpUser, events, task
from locust.clients import ResponseContextManager
from locust.env import Environment

PRODUCTS = ["Coffee beans", "Green tea", "Oat milk 1 l", "Dark chocolate", "Espresso cups, set of 4"]
NEXT_STATUS = {"PENDING": "PAID", "PAID": "SHIPPED", "SHIPPED": "DELIVERED"}
ORDER = "/orders/{id}"
KEEP_ORDERS = 200

# The report's charts: a point every second (Locust's default, 5 s, is coarse for short runs), and the
# response-time chart also draws p99, the figure the summary prints.
locust.stats.HISTORY_STATS_INTERVAL_SEC = 1
locust.stats.PERCENTILES_TO_CHART = [0.5, 0.95, 0.99]


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--max-requests",
        type=int,
        default=0,
        include_in_web_ui=False,
        help="Stop the run after this many requests (0: no cap). Added by bench/load/locustfile.py.",
    )


@events.init.add_listener
def cap_requests(environment: Environment, **_: Any) -> None:
    """Quit the run, as ``--run-time`` does, once ``--max-requests`` requests were answered."""
    options = environment.parsed_options
    cap = options.max_requests if options is not None else 0
    if cap <= 0:
        return
    answered = 0

    def count(**_: Any) -> None:
        nonlocal answered
        answered += 1
        if answered == cap and environment.runner is not None:
            logging.info("--max-requests %d reached, shutting down", cap)
            # From a greenlet of its own: quitting kills the users, including the one running this.
            gevent.spawn(environment.runner.quit)

    environment.events.request.add_listener(count)


@events.quitting.add_listener
def let_csv_catch_up(environment: Environment, **_: Any) -> None:
    """Locust rewrites its CSV files once a second, not at exit: give it one more turn to write the
    final figures, or the last second of requests (and failures) would be missing from them."""
    if environment.parsed_options is not None and environment.parsed_options.csv_prefix:
        if environment.runner is not None:
            environment.runner.stop()  # already stopped, except after Ctrl-C
        gevent.sleep(locust.stats.CSV_STATS_INTERVAL_SEC + 0.2)


def expect(response: ResponseContextManager, *statuses: int) -> Any:
    """Mark the request failed unless it answered one of ``statuses`` (and JSON, if it has a body).

    Failure messages carry no order id, so Locust's failures table groups them by route and status.
    """
    expected = " or ".join(map(str, statuses))
    if response.status_code not in statuses:
        got = response.status_code or f"no answer ({type(response.error).__name__})"
        response.failure(f"expected {expected}, got {got}")
        return None
    try:
        body = response.json() if response.content else None
    except ValueError:
        response.failure(f"answered {response.status_code} with a body that is not JSON")
        return None
    response.success()
    return body


class OrdersClient(HttpUser):
    def on_start(self) -> None:
        self.orders: dict[str, str] = {}  # this user's orders: id -> status
        self.create_order()

    def new_order(self) -> dict[str, Any]:
        return {
            "productName": random.choice(PRODUCTS),
            "productQuantity": random.randint(1, 20),
            "productPrice": random.randint(0, 50_000),
        }

    def remember(self, order: Any) -> None:
        if order is not None:
            self.orders[order["orderId"]] = order["status"]
        if len(self.orders) > KEEP_ORDERS:  # forget the oldest: long runs stay cheap on the client side
            del self.orders[next(iter(self.orders))]

    def pick_order(self, statuses: tuple[str, ...] = ()) -> str | None:
        """One of this user's orders (in one of ``statuses``, if given); a new one when there is none."""
        candidates = [key for key, status in self.orders.items() if not statuses or status in statuses]
        if not candidates:
            self.create_order()
            candidates = [key for key, status in self.orders.items() if status == "PENDING"]
        return random.choice(candidates) if candidates else None

    @task(5)
    def create_order(self) -> None:
        with self.client.post("/orders", json=self.new_order(), catch_response=True) as response:
            self.remember(expect(response, 201))

    @task(1)
    def create_order_twice_with_idempotency_key(self) -> None:
        body, headers = self.new_order(), {"Idempotency-Key": f"load-{uuid.uuid4()}"}
        with self.client.post("/orders", json=body, headers=headers, catch_response=True) as response:
            first = expect(response, 201)
        if first is None:
            return
        self.remember(first)
        replay_name = "/orders (Idempotency-Key replay)"
        with self.client.post(
            "/orders", json=body, headers=headers, name=replay_name, catch_response=True
        ) as response:
            replay = expect(response, 200)
            if replay is not None and replay["orderId"] != first["orderId"]:
                response.failure("the replay answered another order")

    @task(6)
    def get_order(self) -> None:
        order_id = self.pick_order()
        if order_id is None:
            return
        with self.client.get(f"/orders/{order_id}", name=ORDER, catch_response=True) as response:
            expect(response, 200)

    @task(3)
    def list_orders(self) -> None:
        limit = random.choice([5, 10, 20])
        name = "/orders?limit=N"
        with self.client.get(f"/orders?limit={limit}", name=name, catch_response=True) as response:
            page = expect(response, 200)
        for _ in range(random.randint(1, 2)):
            if not page or not page["nextCursor"]:
                return
            params = {"limit": limit, "cursor": page["nextCursor"]}
            name = "/orders?limit=N&cursor=C"
            with self.client.get("/orders", params=params, name=name, catch_response=True) as response:
                page = expect(response, 200)

    @task(3)
    def change_status(self) -> None:
        order_id = self.pick_order(statuses=tuple(NEXT_STATUS))
        if order_id is None:
            return
        status = self.orders[order_id]
        cancel = status in ("PENDING", "PAID") and random.random() < 0.1
        change = {"status": "CANCELLED" if cancel else NEXT_STATUS[status]}
        with self.client.patch(
            f"/orders/{order_id}", json=change, name=ORDER, catch_response=True
        ) as response:
            self.remember(expect(response, 200))

    @task(1)
    def delete_order(self) -> None:
        order_id = self.pick_order()
        if order_id is None:
            return
        with self.client.delete(f"/orders/{order_id}", name=ORDER, catch_response=True) as response:
            expect(response, 204)
        self.orders.pop(order_id, None)
