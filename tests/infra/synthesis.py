"""A synthesized stack and its template, with the look-ups the infra tests share."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

from cdk_app.stack import OrdersApiStack, add_orders_api

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_pre_traffic_hook() -> ModuleType:
    """The pre-traffic hook's module (it is its own asset, not a package of the app)."""
    path = REPO_ROOT / "cdk_app" / "hooks" / "pre_traffic" / "pre_traffic.py"
    spec = importlib.util.spec_from_file_location("pre_traffic", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cdk_json_context() -> dict[str, Any]:
    """The context the CDK CLI passes to the app from ``cdk.json``."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


@dataclass(frozen=True)
class Synthesized:
    app: App
    stack: OrdersApiStack
    template: Template

    @classmethod
    def build(cls, outdir: Path, *, region: str | None = None, **overrides: Any) -> Synthesized:
        """Synthesize with ``cdk.json``'s context plus ``overrides``, as ``-c key=value`` would add them,
        for ``region`` as the CDK CLI gives it to ``app.py`` (None: for any region).

        Template.from_stack runs the validation plugins too, so a stack built here has passed cdk-nag.
        """
        # No asset staging: the template is the same, and the 60 MB asset is not copied for every variant.
        context = {**cdk_json_context(), **overrides, "aws:cdk:disable-asset-staging": True}
        app = App(context=context, outdir=str(outdir))
        stack = add_orders_api(app, region=region)
        assert stack is not None
        return cls(app=app, stack=stack, template=Template.from_stack(stack))

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: dict(value) for key, value in self.template.find_resources(resource_type).items()}

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        """The logical id and body of the single resource of ``resource_type``."""
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))

    def orders_function(self) -> tuple[str, dict[str, Any]]:
        """The logical id and body of the orders function (the stack also has a pre-traffic hook)."""
        logical_id = self.stack.get_logical_id(self.stack.orders_function.function.node.default_child)  # type: ignore[arg-type]
        return logical_id, self.resources("AWS::Lambda::Function")[logical_id]

    def ref(self, value: Any) -> Any:
        """How the template refers to a construct attribute, e.g. ``{"Ref": "StoreSecret..."}``."""
        return self.stack.resolve(value)

    def secrets_readable(self) -> list[Any]:
        """Every resource a ``secretsmanager:`` statement names (CDK may merge grants into one)."""
        found: list[Any] = []
        for statement in self.statements():
            if any(str(action).startswith("secretsmanager:") for action in _listed(statement["Action"])):
                found.extend(_listed(statement["Resource"]))
        return found

    def statements(self, role_id: str | None = None) -> list[dict[str, Any]]:
        """Every statement of every IAM policy in the stack, or of the policies of one role."""
        statements: list[dict[str, Any]] = []
        for policy in self.resources("AWS::IAM::Policy").values():
            if role_id is None or {"Ref": role_id} in policy["Properties"].get("Roles", []):
                statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        return statements

    def function_role(self) -> tuple[str, dict[str, Any]]:
        """The logical id and body of the orders function's role."""
        _, function = self.orders_function()
        role_id: str = function["Properties"]["Role"]["Fn::GetAtt"][0]
        return role_id, self.resources("AWS::IAM::Role")[role_id]

    def function_environment(self) -> dict[str, Any]:
        _, function = self.orders_function()
        environment: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
        return environment


def actions(statement: dict[str, Any]) -> list[str]:
    """A statement's actions, whether written as one string or a list."""
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
