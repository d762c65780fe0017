"""Sign-in with JWTs (``-c apiAuth=jwt``): a Cognito user pool the stack creates, or any OpenID Connect
issuer given with ``-c jwtIssuer=... -c jwtAudience=...`` (Auth0, Okta, Entra ID ...).

The user pool has a resource server ``orders`` with the scopes ``orders/read``, ``orders/write`` and
``orders/admin``, an app client for people (sign-in with the authorization code flow), one for services
(client credentials, with a client secret kept by Cognito) and one for operators, the only one that may
obtain ``orders/admin``. The HTTP API's JWT authorizer
accepts access tokens of either client; routes require ``orders/read`` (GET) or ``orders/write``
(POST, PATCH, DELETE), and the function treats ``orders/admin`` as the admin right.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from cdk_app.nag import acknowledge

RESOURCE_SERVER: Final = "orders"
SCOPES: Final = {
    "read": "Read the caller's orders",
    "write": "Create, change and delete the caller's orders",
    "admin": "Act on every caller's orders",
}


class OrdersUserPool(Construct):
    """The user pool, its ``orders`` scopes and three app clients: people, services and operators."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.pool,
            "AwsSolutions-COG2",
            "MFA is offered (TOTP) but not forced: the service's own callers are mostly services with the "
            "client-credentials flow; require it per pool when people sign in.",
        )
        for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
            acknowledge(
                self.pool,
                rule,
                "Threat protection comes with Cognito's paid Plus feature plan; choose it for the pool "
                "where people sign in and the cost is wanted.",
            )
        scopes = {
            name: cognito.ResourceServerScope(scope_name=name, scope_description=text)
            for name, text in SCOPES.items()
        }
        server = self.pool.add_resource_server(
            "ResourceServer", identifier=RESOURCE_SERVER, scopes=list(scopes.values())
        )

        def oauth_scopes(*names: str) -> list[cognito.OAuthScope]:
            return [cognito.OAuthScope.resource_server(server, scopes[name]) for name in names]

        self.people = self.pool.add_client(
            "PeopleClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, *oauth_scopes("read", "write")],
                callback_urls=["http://localhost:8000/callback"],
            ),
            access_token_validity=Duration.hours(1),
            prevent_user_existence_errors=True,
        )
        # With client credentials a token's subject is the client id: every service sharing this
        # client is one caller. Give each service that must be told apart a client of its own.
        self.services = self.pool.add_client(
            "ServicesClient",
            generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True), scopes=oauth_scopes("read", "write")
            ),
            access_token_validity=Duration.hours(1),
        )
        # The only client that may obtain orders/admin: for operators' tools, not for services.
        self.operators = self.pool.add_client(
            "OperatorsClient",
            generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=oauth_scopes("read", "write", "admin"),
            ),
            access_token_validity=Duration.hours(1),
        )
        # Where clients get tokens: https://orders-<stage>-<account>.auth.<region>.amazoncognito.com/oauth2/token
        self.domain = self.pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"orders-{stage}-{Aws.ACCOUNT_ID}"),
        )
        self.token_url = f"{self.domain.base_url()}/oauth2/token"
        self.issuer = f"https://cognito-idp.{Stack.of(self).region}.amazonaws.com/{self.pool.user_pool_id}"
        self.audience = [
            self.people.user_pool_client_id,
            self.services.user_pool_client_id,
            self.operators.user_pool_client_id,
        ]
