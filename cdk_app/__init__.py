"""The CDK app for the orders API: one construct per concern, composed by ``stack.OrdersApiStack``."""
