"""cdk-nag on every synth, and one way to acknowledge a finding with its reason; checkov's findings
that the design accepts, acknowledged on each resource they concern, with the reason.

checkov (the scanner security teams run on templates, ``make scan``) reads acknowledgements from a
resource's ``Metadata.checkov.skip``. ``CHECKOV_ACKNOWLEDGEMENTS`` says, per resource type, which
checks are accepted and why; an aspect writes them onto every such resource of the template, and only
where the resource really lacks what the check asks for (a function with reserved concurrency, or a
secret with its own key, is left to pass the check). docs/security-scans.md lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import jsii
from aws_cdk import Acknowledgment, Aspects, CfnResource, IAspect, Stage, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

# The validation plugin's name, which CDK puts before each of its rule ids.
_PLUGIN: Final = "AwsSolutions"


def enable_nag(stage: Stage) -> None:
    """Check every resource against the AWS Solutions rules; an unacknowledged finding fails the synth.
    Also acknowledge checkov's accepted findings on each resource (``CHECKOV_ACKNOWLEDGEMENTS``)."""
    Validations.of(stage).add_plugins(AwsSolutionsChecks(stage, verbose=True))
    Aspects.of(stage).add(CheckovAcknowledgements())


_SYNCHRONOUS = (
    "Invoked synchronously only (API Gateway, CodeDeploy's hook call): a dead-letter queue receives "
    "failed asynchronous events, and there are none; a failed request is answered to its caller."
)
_NO_VPC = (
    "Reaches only public HTTPS endpoints (the Astra or Stargate API, AWS APIs), no private resource: a "
    "VPC would need NAT gateways for them, adding cost and cold-start time without narrowing exposure."
)
_ENVIRONMENT = (
    "The environment holds no secret, only settings and the secrets' ARNs (tests/infra asserts it); "
    "Lambda encrypts it at rest with an AWS managed key."
)
_LOG_KEY = (
    "CloudWatch Logs encrypts log data at rest with its own keys; the logs carry no token or secret "
    "(tests assert it), so a customer managed key would add key policy and per-request costs only."
)
# Per resource type: check -> (why it is accepted, and a test of the resource: acknowledged only where
# the resource lacks what the check asks for).
CHECKOV_ACKNOWLEDGEMENTS: Final[dict[str, dict[str, tuple[str, Callable[[CfnResource], bool]]]]] = {
    "AWS::Lambda::Function": {
        "CKV_AWS_116": (_SYNCHRONOUS, lambda resource: True),
        "CKV_AWS_117": (_NO_VPC, lambda resource: True),
        "CKV_AWS_173": (_ENVIRONMENT, lambda resource: True),
        "CKV_AWS_115": (
            "Unreserved on purpose: the API stage's throttling (throttleRateLimit, throttleBurstLimit) "
            "bounds the request rate, and reserving concurrency would take it from the account's pool. "
            "The Document API store's function is reserved (documentStoreConcurrency), and passes.",
            lambda resource: (
                not isinstance(resource, lambda_.CfnFunction)
                or resource.reserved_concurrent_executions is None
            ),
        ),
    },
    "AWS::Logs::LogGroup": {"CKV_AWS_158": (_LOG_KEY, lambda resource: True)},
    "AWS::IAM::Role": {
        "CKV_AWS_109": (
            "The CDK's own provider of the GitHub OIDC identity provider (only in the deploy-role stack, "
            "make deploy-github-role): it creates, updates and deletes that provider, whose ARN does not "
            "exist before it does.",
            lambda resource: "AWSCDKOpenIdConnectProvider" in resource.node.path,
        )
    },
    "AWS::SecretsManager::Secret": {
        "CKV_AWS_149": (
            "Encrypted with the AWS managed key aws/secretsmanager: only the function's role may read it, "
            "and a customer managed key would add a key policy to keep without narrowing that. An existing "
            "secret with a key of its own is supported (existingSecretKmsKey).",
            lambda resource: isinstance(resource, secretsmanager.CfnSecret) and resource.kms_key_id is None,
        )
    },
}


@jsii.implements(IAspect)
class CheckovAcknowledgements:
    """Writes ``CHECKOV_ACKNOWLEDGEMENTS`` into each concerned resource's ``Metadata.checkov.skip``."""

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource):
            return
        accepted = CHECKOV_ACKNOWLEDGEMENTS.get(node.cfn_resource_type, {})
        skips = [
            {"id": check, "comment": reason} for check, (reason, applies) in accepted.items() if applies(node)
        ]
        if skips:
            node.add_metadata("checkov", {"skip": skips})


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept finding ``rule_id`` (e.g. ``AwsSolutions-SMG4``) for ``scope`` and everything under it."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{_PLUGIN}::{rule_id}", reason=reason))
