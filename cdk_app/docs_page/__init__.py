"""Swagger UI for the orders API, served by `make run` and, with `-c swaggerUi=true`, by a deployed stage."""
