"""cdk-nag on every synth, and one way to acknowledge a finding with its reason."""

from __future__ import annotations

from typing import Final

from aws_cdk import Acknowledgment, Stage, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

# The validation plugin's name, which CDK puts before each of its rule ids.
_PLUGIN: Final = "AwsSolutions"


def enable_nag(stage: Stage) -> None:
    """Check every resource against the AWS Solutions rules; an unacknowledged finding fails the synth."""
    Validations.of(stage).add_plugins(AwsSolutionsChecks(stage, verbose=True))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept finding ``rule_id`` (e.g. ``AwsSolutions-SMG4``) for ``scope`` and everything under it."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{_PLUGIN}::{rule_id}", reason=reason))
