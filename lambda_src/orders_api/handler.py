"""The Lambda entry point. Handler setting: ``orders_api.handler.lambda_handler`` (API Gateway HTTP API,
payload format 2.0).

Importing this module is Lambda's init phase: the service (``orders_api.service``) is imported inside
``startup.init_phase()``, which makes it shorter.
"""

from orders_api import startup

with startup.init_phase():
    from orders_api.service import app, lambda_handler, openapi_json

__all__ = ["app", "lambda_handler", "openapi_json"]
