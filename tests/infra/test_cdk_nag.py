"""cdk-nag (AWS Solutions rules) runs on every synth: findings fail it unless acknowledged with a reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Validations
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct

from tests.infra.synthesis import REPO_ROOT, Synthesized

pytestmark = pytest.mark.infra


def _acknowledgements(root: IConstruct) -> dict[str, dict[str, str]]:
    """Construct path -> {rule id: reason} for every acknowledgement in the tree."""
    found: dict[str, dict[str, str]] = {}
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found.setdefault(construct.node.path, {}).update(entry.data)
    return found


def test_the_default_stack_passes_with_only_these_reasoned_acknowledgements(
    default_stack: Synthesized,
) -> None:
    # default_stack was synthesized, so the checks passed; what remains is to see what was waved through.
    acknowledged = _acknowledgements(default_stack.app)

    assert {path: sorted(rules) for path, rules in acknowledged.items()} == {
        "OrdersApi/StoreSecret/Secret": ["AwsSolutions::AwsSolutions-SMG4"],
        "OrdersApi/CursorKey/Secret": ["AwsSolutions::AwsSolutions-SMG4"],
        "OrdersApi/Release/DeploymentGroup/ServiceRole": [
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSCodeDeployRoleForLambdaLimited]",
            "AwsSolutions::AwsSolutions-IAM5[Resource::<ReleasePreTrafficHook6304800F.Arn>:*]",
        ],
        "OrdersApi/OrdersFunction/Role/DefaultPolicy": ["AwsSolutions::AwsSolutions-IAM5[Resource::*]"],
    }
    for rules in acknowledged.values():
        assert all(len(reason) > 40 for reason in rules.values())


def test_auth_none_is_acknowledged_on_the_api_only(synth: Callable[..., Synthesized]) -> None:
    acknowledged = _acknowledgements(synth(apiAuth="none").app)

    assert acknowledged["OrdersApi/Api/HttpApi"] == {
        "AwsSolutions::AwsSolutions-APIG4": (
            "Authorization was turned off on purpose with the apiAuth=none context key."
        )
    }


def test_an_unacknowledged_finding_fails_the_synth(tmp_path: Path) -> None:
    # Given the real stack plus a queue that breaks two AWS Solutions rules
    synthesized = Synthesized.build(tmp_path / "ok")
    app = synthesized.app
    sqs.Queue(synthesized.stack, "UnencryptedQueue")

    # When it is synthesized, Then synthesis stops and the report names the rules and the resource
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth(force=True)
    report: dict[str, Any] = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    violations = {
        violation["ruleName"]: [c["constructPath"] for c in violation["violatingConstructs"]]
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == "AwsSolutions"
        for violation in plugin["violations"]
    }
    assert violations == {
        "AwsSolutions-SQS3": ["OrdersApi/UnencryptedQueue/Resource"],
        "AwsSolutions-SQS4": ["OrdersApi/UnencryptedQueue/Resource"],
    }


def test_checkovs_accepted_findings_are_written_on_their_resources_with_reasons(synth: Any) -> None:
    from cdk_app.nag import CHECKOV_ACKNOWLEDGEMENTS

    data, documents = synth(), synth(storeApi="documents", storeUrl="http://stargate.internal:8082")

    def skipped(stack: Synthesized, logical_id: str) -> dict[str, str]:
        resource = stack.template.to_json()["Resources"][logical_id]
        return {skip["id"]: skip["comment"] for skip in resource["Metadata"]["checkov"]["skip"]}

    function_id, _ = data.orders_function()
    assert set(skipped(data, function_id)) == {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"}
    # The Document API store's function is reserved: it passes CKV_AWS_115 and is not told to skip it
    reserved_id, _ = documents.orders_function()
    assert "CKV_AWS_115" not in skipped(documents, reserved_id)
    for logical_id in data.resources("AWS::Logs::LogGroup"):
        assert "CKV_AWS_158" in skipped(data, logical_id)
    for logical_id in data.resources("AWS::SecretsManager::Secret"):
        assert skipped(data, logical_id)["CKV_AWS_149"].startswith("Encrypted with the AWS managed key")
    # Every accepted check has a reason, and the security page lists it
    page = (REPO_ROOT / "docs" / "security-scans.md").read_text()
    for checks in CHECKOV_ACKNOWLEDGEMENTS.values():
        for check, (reason, _) in checks.items():
            assert len(reason) > 40
            assert f"`{check}`" in page
