"""The Secrets Manager secret that holds the Astra / Stargate token."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk_app.nag import acknowledge


class StoreSecret(Construct):
    """Creates the secret with a random placeholder, or imports an existing one by name or complete ARN.

    The real token never passes through CDK: it is put into the secret after deployment
    (``aws secretsmanager put-secret-value``), so it is in no template, output or context value.
    The secret may hold a plain token, ``{"token": ...}`` or ``{"username": ..., "password": ...}``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, existing: str | None) -> None:
        super().__init__(scope, construct_id)
        self.created = existing is None
        self.secret: secretsmanager.ISecret
        if existing is None:
            secret = secretsmanager.Secret(
                self,
                "Secret",
                description=(
                    "Astra / Stargate token for the orders API. Created with a random placeholder: "
                    "put the real token with `aws secretsmanager put-secret-value`."
                ),
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=40, exclude_punctuation=True
                ),
            )
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "The secret holds an Astra application token, which is issued and rotated in Astra; "
                "Secrets Manager cannot rotate it. The new token is put with put-secret-value and the "
                "function picks it up within SECRET_MAX_AGE_SECONDS.",
            )
            self.secret = secret
        elif existing.startswith("arn:"):
            self.secret = secretsmanager.Secret.from_secret_complete_arn(self, "Secret", existing)
        else:
            self.secret = secretsmanager.Secret.from_secret_name_v2(self, "Secret", existing)
