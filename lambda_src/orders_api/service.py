"""The service: the HTTP API resolver, error mapping, and the checks made before routing (the 64 KiB
body limit, JSON bodies only). Lambda calls ``lambda_handler`` through ``orders_api.handler``, which
imports this module inside ``startup.init_phase()``.
"""

# No "from __future__ import annotations": Powertools reads these annotations at run time.
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_api import errors, names, snapstart
from orders_api.identity import NotAuthenticated, admin_principals, auth_mode, caller_of
from orders_api.names import JSON, OPENAPI_PATH
from orders_api.observability import count_server_error, logger, metrics, tracer
from orders_api.preflight import Refusal, checked_event
from orders_api.routes import router
from orders_api.store.http import time_budget

API_TITLE = "Orders API"
API_VERSION = "1.0.0"
MAX_FIELD_NAME = 64
# A body of unknown keys would otherwise be echoed back many times over.
MAX_REPORTED_PROBLEMS = 10
# The answer that counts as the version's own failure (names.SERVER_ERROR_METRIC): an unexpected error
# or a misconfiguration. 502, 503 and 504 tell of the store (or the secret), whatever the version.
OWN_FAILURE = 500
# Kept free of store calls at the end of an invocation: time to log, flush metrics and answer.
ANSWER_MARGIN_SECONDS = 1.0
SEE_LOG = "The service's log has the details under this answer's requestId."
UNREADABLE = f"The request could not be read; check its body and headers. {SEE_LOG}"

app = APIGatewayHttpResolver(enable_validation=True)
snapstart.register()
app.include_router(router)


@app.get(OPENAPI_PATH, include_in_schema=False)
def openapi_document() -> Response[Any]:
    """The OpenAPI document generated from the routes and models."""
    return Response(status_code=200, content_type=JSON, body=openapi_json())


def _error(status: int, message: str, details: list[dict[str, str]] | None = None) -> Response[Any]:
    if status == OWN_FAILURE:
        count_server_error()
    body = _error_body(message, _request_id(app.current_event.raw_event), details)
    return Response(status_code=status, content_type=JSON, body=json.dumps(body))


def _error_body(
    message: str, request_id: str | None, details: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if details:
        body["errors"] = details
    if request_id:
        # API Gateway's request id; every log line of the invocation carries it as correlation_id.
        body["requestId"] = request_id
    return body


def _request_id(event: dict[str, Any]) -> str | None:
    request_id = (event.get("requestContext") or {}).get("requestId")
    return str(request_id)[:128] if request_id else None


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[Any]:
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return _error(400, "The request body is not valid JSON.")
    details = [
        {"field": _field_name(problem.get("loc", ())), "message": _problem_message(problem)}
        for problem in problems[:MAX_REPORTED_PROBLEMS]
    ]
    summary = "; ".join(f"{detail['field']}: {detail['message']}" for detail in details)
    if len(problems) > MAX_REPORTED_PROBLEMS:
        summary += f"; and {len(problems) - MAX_REPORTED_PROBLEMS} more"
    return _error(422, f"Invalid request: {summary}.", details)


# Pydantic's words for a number that is not a whole one, and what to send instead.
_NOT_WHOLE = ("int_from_float", "int_parsing", "int_type")
_WHOLE_NUMBER_HINTS = {
    "productPrice": "must be a whole number of cents (minor units): 12.50 is 1250",
    "productQuantity": "must be a whole number",
}


def _problem_message(problem: dict[str, Any]) -> str:
    kind = problem.get("type")
    location = problem.get("loc") or ()
    field = str(location[-1]) if location else ""
    if kind == "string_pattern_mismatch":  # only the Idempotency-Key has a pattern
        return "must be visible ASCII characters only (no spaces, commas, line breaks or accented letters)"
    if kind in _NOT_WHOLE and field in _WHOLE_NUMBER_HINTS:
        return _WHOLE_NUMBER_HINTS[field]
    if kind == "too_long" and field == "productName":  # checked after our validator, so "items"
        return f"must be at most {problem.get('ctx', {}).get('max_length')} characters"
    # Pydantic prefixes the messages of our own validators with "Value error, ".
    return str(problem.get("msg", "is not valid")).removeprefix("Value error, ")


def _field_name(location: Any) -> str:
    # ("body", "productQuantity") → "productQuantity"; ("query", "limit") → "limit"; ("body",) → "body";
    # ("header", "idempotency-key") → "Idempotency-Key"
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    if location and location[0] == "header":
        parts = ["-".join(word.capitalize() for word in part.split("-")) for part in parts]
    name = ".".join(parts) or (str(location[0]) if location else "request")
    return _echo(name, MAX_FIELD_NAME)


def _echo(text: str, limit: int) -> str:
    """Caller-chosen text as it may appear in an answer: printable, and short."""
    printable = "".join(c if c.isprintable() else "?" for c in text)
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
    return _error(415, "Send the request body as application/json.")


@app.exception_handler(errors.OrderNotFound)
def _not_found(error: errors.OrderNotFound) -> Response[Any]:
    return _error(404, str(error))


@app.exception_handler(
    [errors.IdempotencyKeyReused, errors.OrderDeleted, errors.TransitionNotAllowed, errors.ConcurrentUpdate]
)
def _conflict(error: errors.OrdersError) -> Response[Any]:
    return _error(409, str(error))


@app.exception_handler(errors.NotAllowed)
def _not_allowed(error: errors.NotAllowed) -> Response[Any]:
    return _error(403, str(error))


@app.exception_handler(errors.InvalidCursor)
def _bad_cursor(error: errors.InvalidCursor) -> Response[Any]:
    return _error(400, str(error))


@app.exception_handler(errors.StoreError)
def _store_failed(error: errors.StoreError) -> Response[Any]:
    # The log gets our own description and the exception types behind it, never an exception's text:
    # a library's message can quote a header, and so a token. The caller gets the kind and a request id.
    logger.warning(
        "Order store failed", error=str(error), error_type=type(error).__name__, causes=_causes(error)
    )
    metrics.add_metric(name="StoreFailure", unit=MetricUnit.Count, value=1)
    return _error(error.status_code, f"{error.public_message} {SEE_LOG}")


@app.exception_handler(errors.ConfigurationError)
def _misconfigured(error: errors.ConfigurationError) -> Response[Any]:
    logger.error("Service misconfigured", error=str(error), causes=_causes(error))
    return _error(error.status_code, f"{error.public_message} {SEE_LOG}")


def _causes(error: BaseException) -> list[str]:
    """The types of the exceptions behind ``error``, outermost first (no messages: they may hold secrets)."""
    names: list[str] = []
    cause = error.__cause__ or error.__context__
    while cause is not None and len(names) < 5:
        names.append(f"{type(cause).__module__}.{type(cause).__qualname__}")
        cause = cause.__cause__ or cause.__context__
    return names


@app.not_found
def _no_route(error: Exception) -> Response[Any]:
    event = app.current_event
    return _error(404, f"There is no route {_echo(event.http_method, 16)} {_echo(event.path, 100)}.")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[Any]:
    logger.exception("Unexpected error")
    return _error(500, f"Internal error. {SEE_LOG}")


def openapi_json() -> str:
    """The API's OpenAPI document as JSON text."""
    return app.get_openapi_json_schema(
        title=API_TITLE, version=API_VERSION, security_schemes=_security_schemes()
    )


def _security_schemes() -> dict[str, Any]:
    """How callers authenticate, as API Gateway checks it. Built on demand: Powertools' OpenAPI models
    cost ~100 ms to import, which no cold start should pay for a document few requests ask for."""
    from aws_lambda_powertools.event_handler.openapi.models import (
        APIKey,
        APIKeyIn,
        OAuth2,
        OAuthFlowClientCredentials,
        OAuthFlows,
    )

    return {
        "sigv4": APIKey(
            name="Authorization",
            in_=APIKeyIn.header,
            description="AWS Signature Version 4 for execute-api (apiAuth=iam, the default).",
        ),
        "jwt": OAuth2(
            description=(
                "A bearer access token (apiAuth=jwt) from the stack's Cognito user pool (the TokenUrl "
                "output) or the configured issuer; orders/admin acts on every order."
            ),
            flows=OAuthFlows(
                clientCredentials=OAuthFlowClientCredentials(
                    tokenUrl="https://<your-domain>.auth.<region>.amazoncognito.com/oauth2/token",
                    scopes={
                        "orders/read": "Read the caller's orders",
                        "orders/write": "Create, change and delete the caller's orders",
                        "orders/admin": "Act on every caller's orders",
                    },
                )
            ),
        ),
    }


def _early_answer(refusal: Refusal, event: dict[str, Any]) -> dict[str, Any]:
    if refusal.status == OWN_FAILURE:
        count_server_error()
    return {
        "statusCode": refusal.status,
        "headers": {"Content-Type": JSON},
        "body": json.dumps(_error_body(refusal.message, _request_id(event))),
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Resolve one HTTP API v2 event; bodies that are not one bounded JSON object never reach a route."""
    try:
        checked = checked_event(event)
        caller = caller_of(checked, auth_mode(), admin_principals())
    except Refusal as refusal:
        return _early_answer(refusal, event)
    except NotAuthenticated as error:
        return _early_answer(Refusal(401, str(error)), event)
    except errors.ConfigurationError as error:
        logger.error("Service misconfigured", error=str(error))
        return _early_answer(Refusal(500, f"{error.public_message} {SEE_LOG}"), event)
    except Exception:
        # Only the caller's request has been read so far, so whatever broke was the caller's input: a
        # 400, never a crash or a 500 that a release would count as the new version's own failure
        # (anyone could roll a canary back). Operators still hear of it (names.UNREADABLE_REQUEST_METRIC).
        logger.exception("A request could not be read")
        metrics.add_metric(name=names.UNREADABLE_REQUEST_METRIC, unit=MetricUnit.Count, value=1)
        return _early_answer(Refusal(400, UNREADABLE), event)
    logger.append_keys(caller=caller.id)
    app.append_context(caller=caller)
    # Store calls, retries included, end in time for this function to answer with its own 504.
    with time_budget(context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS):
        return app.resolve(checked, context)
