"""The X-Ray provider on its own: trace headers, sampling, documents as the daemon receives them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Tracer

from orders_api.errors import ConfigurationError, OrderNotFound, StoreUnavailable
from orders_api.xray import MAX_DATAGRAM_BYTES, daemon_address, parse_trace_header
from tests.xray_capture import LAMBDA_SEGMENT, NOT_SAMPLED, TRACE_ROOT, daemon_and_provider


def test_the_trace_header_gives_the_trace_the_parent_and_the_decision() -> None:
    context = parse_trace_header(f"Root={TRACE_ROOT};Parent={LAMBDA_SEGMENT};Sampled=1;Lineage=a:1")
    assert context is not None
    assert (context.root, context.parent_id, context.sampled) == (TRACE_ROOT, LAMBDA_SEGMENT, True)
    assert parse_trace_header(NOT_SAMPLED).sampled is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "header",
    [None, "", "Root=1-abc;Parent=53995c3f42cd8ad8;Sampled=1", f"Root={TRACE_ROOT};Sampled=1", "garbage"],
)
def test_a_header_that_names_no_trace_is_none(header: str | None) -> None:
    assert parse_trace_header(header) is None


@pytest.mark.parametrize(
    ("value", "address"),
    [
        (None, ("127.0.0.1", 2000)),
        ("169.254.79.129:2000", ("169.254.79.129", 2000)),
        ("tcp:127.0.0.1:2000 udp:127.0.0.2:2001", ("127.0.0.2", 2001)),
        ("nonsense", ("127.0.0.1", 2000)),
    ],
)
def test_the_daemon_address_is_read_as_lambda_sets_it(value: str | None, address: tuple[str, int]) -> None:
    assert daemon_address(value) == address


def traced(provider: Any) -> Tracer:
    return Tracer(service="orders-test", disabled=False, auto_patch=False, provider=provider)


def test_a_sampled_invocation_is_one_datagram_holding_every_subsegment_under_its_parent() -> None:
    with daemon_and_provider() as (daemon, provider):
        tracer = traced(provider)

        @tracer.capture_method(capture_response=False)
        def route() -> str:
            with provider.remote_call(
                "POST", "https://db.example.com:8443/api/json/v1/ks/orders?x=1"
            ) as call:
                call.record_answer(200, 57)
            return "ok"

        @tracer.capture_lambda_handler(capture_response=False)
        def handler(event: dict[str, Any], context: Any) -> str:
            return route()

        assert handler({}, None) == "ok"
        (datagram,) = daemon.datagrams()
        daemon.socket.sendto(datagram, daemon.address)  # read it again, as documents
        documents = {d["name"]: d for d in daemon.documents()}

    route_name = next(name for name in documents if name.endswith(".route"))
    assert set(documents) == {"## handler", route_name, "db.example.com"}
    top, middle, store = documents["## handler"], documents[route_name], documents["db.example.com"]
    assert {d["trace_id"] for d in documents.values()} == {TRACE_ROOT}
    assert all(d["type"] == "subsegment" for d in documents.values())
    assert (top["parent_id"], middle["parent_id"], store["parent_id"]) == (
        LAMBDA_SEGMENT,
        top["id"],
        middle["id"],
    )
    assert top["annotations"]["Service"] == "orders-test"
    assert isinstance(top["annotations"]["ColdStart"], bool)
    assert store["namespace"] == "remote"
    assert store["http"] == {
        "request": {"method": "POST", "url": "https://db.example.com:8443/api/json/v1/ks/orders"},
        "response": {"status": 200, "content_length": 57},
    }
    assert not any(flag in store for flag in ("error", "fault", "throttle"))
    assert (
        top["start_time"]
        <= middle["start_time"]
        <= store["start_time"]
        <= store["end_time"]
        <= top["end_time"]
    )


@pytest.mark.parametrize("header", [NOT_SAMPLED, None])
def test_nothing_is_sent_when_lambda_did_not_sample_the_invocation(header: str | None) -> None:
    with daemon_and_provider(header) as (daemon, provider):
        tracer = traced(provider)

        @tracer.capture_lambda_handler
        def handler(event: dict[str, Any], context: Any) -> str:
            with provider.remote_call("GET", "http://store/x") as call:
                call.record_answer(500, 0)
            tracer.put_annotation("Anything", 1)
            return "ok"

        assert handler({}, None) == "ok"
        assert daemon.datagrams() == []


@pytest.mark.parametrize(
    ("status", "flags"),
    [(404, {"error"}), (429, {"error", "throttle"}), (503, {"fault"}), (201, set())],
)
def test_an_answers_status_sets_x_rays_flags(status: int, flags: set[str]) -> None:
    with daemon_and_provider() as (daemon, provider):
        with provider.remote_call("GET", "http://store:8082/v2/x") as call:
            call.record_answer(status, 10)
        (document,) = daemon.documents()
    assert {flag for flag in ("error", "fault", "throttle") if document.get(flag)} == flags


def test_a_refusal_is_an_error_with_its_message_a_failure_a_fault_and_other_messages_stay_out() -> None:
    with daemon_and_provider() as (daemon, provider):
        for error in (
            OrderNotFound("o-1"),
            StoreUnavailable("The store cannot be reached."),
            ValueError("tok=s3"),
        ):
            with pytest.raises(type(error)), provider.in_subsegment("## step"):
                raise error
        refusal, failure, unexpected = daemon.documents()

    assert refusal["error"] is True
    assert "fault" not in refusal
    assert refusal["cause"]["exceptions"][0]["message"] == "Order o-1 was not found."
    assert refusal["cause"]["exceptions"][0]["type"] == "OrderNotFound"
    frames = refusal["cause"]["exceptions"][0]["stack"]
    assert "test_a_refusal_is_an_error_with_its_message_a_failure_a_fault_and_other_messages_stay_out" in {
        frame["label"] for frame in frames
    }
    assert failure["fault"] is True
    assert failure["cause"]["exceptions"][0]["type"] == "StoreUnavailable"
    assert unexpected["fault"] is True
    assert "message" not in unexpected["cause"]["exceptions"][0]
    assert "s3" not in json.dumps(unexpected)


def test_a_misconfigured_service_is_a_fault_as_its_500_answer_says() -> None:
    # Given a setting the function cannot work without
    with daemon_and_provider() as (daemon, provider):
        with pytest.raises(ConfigurationError), provider.in_subsegment("## step"):
            raise ConfigurationError("STORE_URL is not set.")
        (document,) = daemon.documents()

    # Then X-Ray counts it with the server's failures, not with the callers' mistakes
    assert document["fault"] is True
    assert "error" not in document


def test_an_exception_recorded_by_powertools_and_by_the_provider_is_recorded_once() -> None:
    with daemon_and_provider() as (daemon, provider):
        tracer = traced(provider)

        @tracer.capture_method
        def failing() -> None:
            raise OrderNotFound("o-2")

        with pytest.raises(OrderNotFound):
            failing()
        (document,) = daemon.documents()
    assert len(document["cause"]["exceptions"]) == 1
    (error,) = document["metadata"]["orders-test"].values()
    assert error == {"type": "OrderNotFound", "message": "Order o-2 was not found."}


def test_annotations_x_ray_would_refuse_are_left_out_not_sent() -> None:
    with daemon_and_provider() as (daemon, provider):
        with provider.in_subsegment("## step") as segment:
            segment.put_annotation("good_key", "v" * 5000)
            segment.put_annotation("bad key!", "x")
            segment.put_annotation("Object", object())
        (document,) = daemon.documents()
    assert document["annotations"] == {"good_key": "v" * 1000}


def test_a_document_too_large_for_a_datagram_loses_its_metadata_not_its_timing() -> None:
    with daemon_and_provider() as (daemon, provider):
        with provider.in_subsegment("## step") as segment:
            segment.put_metadata("huge", "x" * MAX_DATAGRAM_BYTES)
            segment.put_annotation("kept", True)
        (document,) = daemon.documents()
    assert "metadata" not in document
    assert document["annotations"] == {"kept": True}


def test_a_tree_too_large_for_one_datagram_is_sent_one_subsegment_per_datagram() -> None:
    with daemon_and_provider() as (daemon, provider):
        with provider.in_subsegment("## handler"):
            for number in range(60):
                with provider.remote_call("GET", f"http://store/{'x' * 200}/{number}") as call:
                    call.record_answer(200, 1)
                    call.put_annotation("large", "y" * 1000)
        datagrams = daemon.datagrams()
        for datagram in datagrams:
            daemon.socket.sendto(datagram, daemon.address)
        documents = daemon.documents()

    assert len(datagrams) == 61
    (top,) = [d for d in documents if d["name"] == "## handler"]
    assert [d["parent_id"] for d in documents if d["name"] == "store"] == [top["id"]] * 60


def test_a_daemon_that_is_not_there_never_fails_the_request() -> None:
    with daemon_and_provider() as (daemon, provider):
        daemon.socket.close()
        provider.sender.address = ("127.0.0.1", 9)  # discard port; nothing listens
        with provider.in_subsegment("## step"):
            pass


def test_values_json_cannot_carry_are_never_sent_as_broken_documents() -> None:
    with daemon_and_provider() as (daemon, provider):
        with provider.in_subsegment("## step") as segment:
            segment.put_annotation("ratio", float("nan"))
            segment.put_annotation("kept", 1.5)
            segment.put_metadata("bad", {"value": float("inf")})
        (document,) = daemon.documents()
    assert document["annotations"] == {"kept": 1.5}
    assert document["metadata"]["default"]["bad"] == "<dict>"
