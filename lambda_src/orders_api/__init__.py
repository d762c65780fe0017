"""Order-processing API served by one AWS Lambda function behind an API Gateway HTTP API."""
