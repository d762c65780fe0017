"""Local development: the embedded Stargate-compatible server and the API served on localhost.

Never bundled into the Lambda function.
"""
