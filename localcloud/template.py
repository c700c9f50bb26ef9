"""Loading ``template.yaml`` the way CloudFormation reads it, after the SAM transform.

* YAML with CloudFormation's short-form tags (``!Ref``, ``!Sub``, ``!GetAtt``, ...), turned into
  their long form (``{"Ref": ...}``) by a small SafeLoader subclass (cfn-lint's loader works too
  but costs ~0.6 s of imports on every start).
* Parameters: defaults, overrides (like ``sam deploy --parameter-overrides``), ``AllowedValues``,
  and list types.
* The SAM transform (:mod:`localcloud.transform`, aws-sam-translator: the code ``sam deploy``
  runs) with those parameter values, so what is deployed locally is the CloudFormation AWS
  deploys: no ``AWS::Serverless::*`` resource and no ``Globals`` are left afterwards.
* Conditions evaluated once against the parameters; resources whose ``Condition`` is false are
  left out, as CloudFormation does.

Nothing is resolved here beyond conditions: values that need physical ids are evaluated later by
the resource handlers (:mod:`localcloud.resources`) once the local backend has created them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from localcloud import ACCOUNT_ID, DEFAULT_REGION, DEFAULT_STACK_NAME
from localcloud.intrinsics import NO_VALUE, IntrinsicError, Resolver
from localcloud.transform import SAM_TRANSFORM, Transformed, TransformError, sam_transform, uses_sam_transform

__all__ = ["Resource", "Template", "TemplateError", "load_template", "load_yaml", "pseudo_parameters"]

_HANDLED_SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion",
        "Description",
        "Metadata",
        "Parameters",
        "Mappings",
        "Conditions",
        "Resources",
        "Outputs",
    }
)


class TemplateError(ValueError):
    """The template cannot be run locally; the message names the place."""


# ---------------------------------------------------------------------- YAML
# libyaml's parser when PyYAML has it (its wheels do): ten times faster on template.yaml
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CfnYamlLoader(_SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic tags."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise TemplateError(f"unsupported YAML node for !{tag_suffix}")
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {f"Fn::{tag_suffix}": value}


CfnYamlLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: Path) -> Any:
    """Parses a CloudFormation YAML (or JSON) document."""
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=CfnYamlLoader)  # noqa: S506 - a SafeLoader subclass


# ---------------------------------------------------------------------- model
@dataclass(frozen=True)
class Resource:
    """One CloudFormation resource of the transformed template."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Template:
    path: Path
    #: the template as written (SAM)
    source: dict[str, Any]
    #: the CloudFormation template that is deployed: the SAM transform's output
    document: dict[str, Any]
    parameters: dict[str, Any]
    pseudo: dict[str, Any]
    conditions: dict[str, bool]
    mappings: dict[str, Any]
    resources: dict[str, Resource]
    #: logical id -> name of the false condition that left it out
    omitted: dict[str, str]
    #: template features the local cloud does not emulate (reported at start-up)
    warnings: list[str]
    #: the local folders and files the transformed template's placeholder S3 locations stand for
    transformed: Transformed | None = None

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def local_path(self, location: Any) -> Path | None:
        """The local folder (or file) behind a transformed ``Code``/``Content``/``BodyS3Location``."""
        return self.transformed.local_path(location) if self.transformed else None

    def resolver(self) -> Resolver:
        """A resolver that knows parameters and conditions but no resources yet."""
        return Resolver(
            parameters=self.parameters,
            pseudo_parameters=self.pseudo,
            conditions=self.conditions,
            mappings=self.mappings,
        )

    def of_type(self, *types: str) -> list[Resource]:
        return [resource for resource in self.resources.values() if resource.type in types]


def pseudo_parameters(region: str, stack_name: str) -> dict[str, Any]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack_name}/local",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }


#: the pseudo parameters a transform receives with the template's parameters
_TRANSFORM_PSEUDO = ("AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName")


def load_template(
    path: Path | str,
    parameter_overrides: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
    stack_name: str = DEFAULT_STACK_NAME,
) -> Template:
    """Reads a template, runs the SAM transform on it, and prepares what CloudFormation would deploy.

    Raises :class:`TemplateError` when it cannot be run (the SAM transform's refusals included).
    """
    path = Path(path).resolve()
    try:
        raw = load_yaml(path)
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"{path}: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources section)")

    warnings: list[str] = []
    pseudo = pseudo_parameters(region, stack_name)
    parameters = _parameter_values(raw.get("Parameters") or {}, parameter_overrides or {}, warnings)
    transformed = None
    document = raw
    transforms = raw.get("Transform") or []
    for transform in [transforms] if isinstance(transforms, str) else transforms:
        if transform != SAM_TRANSFORM:
            warnings.append(f"transform {transform} is not applied locally")
    if uses_sam_transform(raw):
        values = {**parameters, **{name: pseudo[name] for name in _TRANSFORM_PSEUDO}}
        try:
            transformed = sam_transform(raw, values, path.parent)
        except TransformError as error:
            raise TemplateError(f"{path}: {error}") from None
        document = transformed.document
    unrecognized = sorted({str(r.get("Type")) for r in document["Resources"].values() if _is_sam(r)})
    if unrecognized:  # what CloudFormation answers when the SAM transform was not declared
        raise TemplateError(
            f"{path}: Unrecognized resource types: {unrecognized} (declare Transform: {SAM_TRANSFORM})"
        )
    warnings += [
        f"template section {key} is not evaluated locally"
        for key in document
        if key not in _HANDLED_SECTIONS and key != "Transform"
    ]
    mappings = document.get("Mappings") or {}
    conditions = _evaluate_conditions(document.get("Conditions") or {}, parameters, pseudo, mappings)

    resources: dict[str, Resource] = {}
    omitted: dict[str, str] = {}
    for logical_id, body in document["Resources"].items():
        if not isinstance(body, dict) or "Type" not in body:
            raise TemplateError(f"Resources.{logical_id}: a resource needs a Type")
        condition = body.get("Condition")
        if condition is not None:
            if condition not in conditions:
                raise TemplateError(f"Resources.{logical_id}: unknown condition {condition!r}")
            if not conditions[condition]:
                omitted[str(logical_id)] = str(condition)
                continue
        depends_on = body.get("DependsOn") or []
        resources[str(logical_id)] = Resource(
            logical_id=str(logical_id),
            type=str(body["Type"]),
            properties=copy.deepcopy(body.get("Properties") or {}),
            depends_on=tuple([depends_on] if isinstance(depends_on, str) else depends_on),
            metadata=dict(body.get("Metadata") or {}),
        )
    return Template(
        path=path,
        source=raw,
        document=document,
        parameters=parameters,
        pseudo=pseudo,
        conditions=conditions,
        mappings=mappings,
        resources=resources,
        omitted=omitted,
        warnings=warnings,
        transformed=transformed,
    )


def _is_sam(resource: Any) -> bool:
    return isinstance(resource, dict) and str(resource.get("Type", "")).startswith("AWS::Serverless::")


def _parameter_values(
    declared: dict[str, Any], overrides: Mapping[str, str], warnings: list[str]
) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"parameter overrides name unknown parameters: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec or {}
        parameter_type = str(spec.get("Type", "String"))
        if name in overrides:
            text = str(overrides[name])
        elif "Default" in spec:
            default = spec["Default"]
            text = ",".join(str(item) for item in default) if isinstance(default, list) else str(default)
        else:
            raise TemplateError(
                f"parameter {name} has no Default: pass it with --parameter-overrides {name}=..."
            )
        if parameter_type.startswith("AWS::SSM::Parameter::Value"):
            warnings.append(
                f"parameter {name}: SSM parameter types are not looked up locally, using {text!r}"
            )
        pattern = spec.get("AllowedPattern")
        if pattern is not None and re.fullmatch(str(pattern), text) is None:
            why = spec.get("ConstraintDescription") or f"it must match {pattern}"
            raise TemplateError(f"parameter {name}={text!r} is not allowed: {why}")
        allowed = spec.get("AllowedValues")
        if allowed is not None and text not in [str(item) for item in allowed]:
            raise TemplateError(f"parameter {name}={text!r} is not one of {[str(item) for item in allowed]}")
        if parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<"):
            values[str(name)] = [item.strip() for item in text.split(",")] if text else []
        else:
            values[str(name)] = text
    return values


def _evaluate_conditions(
    declared: dict[str, Any], parameters: dict[str, Any], pseudo: dict[str, Any], mappings: dict[str, Any]
) -> dict[str, bool]:
    results: dict[str, bool] = {}
    in_progress: set[str] = set()

    def evaluate(name: str) -> bool:
        if name in results:
            return results[name]
        if name not in declared:
            raise TemplateError(f"Conditions: unknown condition {name!r}")
        if name in in_progress:
            raise TemplateError(f"Conditions: {name} depends on itself")
        in_progress.add(name)
        resolver = Resolver(
            parameters=parameters, pseudo_parameters=pseudo, mappings=mappings, condition_evaluator=evaluate
        )
        try:
            value = resolver.resolve(declared[name], f"Conditions.{name}")
        except IntrinsicError as error:
            raise TemplateError(str(error)) from None
        if not isinstance(value, bool):
            raise TemplateError(f"Conditions.{name}: does not evaluate to true or false")
        results[name] = value
        in_progress.discard(name)
        return value

    for condition_name in declared:
        evaluate(str(condition_name))
    return results
