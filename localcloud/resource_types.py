"""The contract between the deployer (:mod:`localcloud.stack`) and one handler per resource type.

A handler *ensures* its resource exists in the local backend (find it by its deterministic name,
else create it) and returns what ``Ref`` and ``Fn::GetAtt`` give for it. "Find, else create"
makes a deployment idempotent, so the same code serves a fresh start, a restart over persisted
state, and ``localcloud invoke`` against a backend that is already running.

Every handler declares which properties it emulates and which have no local meaning (IAM,
tracing, throttling, ...). Any other property found in the template is reported by name, so a
template feature is never skipped silently.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from localcloud.template import Resource, Template

if TYPE_CHECKING:
    from localcloud.cloudfront import DistributionSpec
    from localcloud.custom_resources import CustomResourceRunner
    from localcloud.functions import FunctionSpec
    from localcloud.resources.ecs import ServiceSpec, TaskSpec
    from localcloud.routes import ApiSpec

__all__ = [
    "DeployContext",
    "Deployed",
    "Physical",
    "ResourceType",
    "UnsupportedResourceError",
    "error_code",
    "pick",
    "tag_list",
]


def error_code(error: Any) -> str:
    """The ``Error.Code`` of a botocore ``ClientError``."""
    return str(error.response.get("Error", {}).get("Code", ""))


def tag_list(tags: Any) -> list[dict[str, str]]:
    """CloudFormation tags (a map or a Key/Value list) as the service APIs' Key/Value list."""
    if isinstance(tags, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in tags or []]


def pick(source: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: source[name] for name in names if name in source}


class UnsupportedResourceError(RuntimeError):
    """This resource cannot be emulated; it is reported and left out."""


@dataclass
class Physical:
    """What CloudFormation would answer for a resource: its ``Ref`` value and attributes."""

    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Deployed:
    """What deploying collects, resource by resource: the local cloud then runs and serves it."""

    warnings: list[str] = field(default_factory=list)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    #: layer version ARN -> its local folder
    layers: dict[str, Path] = field(default_factory=dict)
    apis: dict[str, ApiSpec] = field(default_factory=dict)
    distributions: dict[str, DistributionSpec] = field(default_factory=dict)
    #: ECS task definition ARN -> its container, as a local process runs it
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    #: ECS services by logical id
    ecs_services: dict[str, ServiceSpec] = field(default_factory=dict)
    #: what failed while deploying without stopping the stack (a custom resource's FAILED answer)
    failures: list[str] = field(default_factory=list)


@dataclass
class DeployContext:
    """What handlers are given while the template is being deployed into the local backend; what
    they find out goes into :attr:`deployed`."""

    template: Template
    region: str
    account_id: str
    stack_name: str
    #: boto3 client factory for the local backend
    client: Callable[[str], Any]
    #: evaluates intrinsic functions against parameters and the resources created so far
    resolve: Callable[[Any, str], Any]
    #: distribution logical id -> ``host:port`` of its local edge server (only those served)
    edge_hosts: dict[str, str] = field(default_factory=dict)
    #: runs custom resources' functions; None where nothing runs them (``invoke``)
    custom_resources: CustomResourceRunner | None = None
    deployed: Deployed = field(default_factory=Deployed)

    def warn(self, message: str) -> None:
        if message not in self.deployed.warnings:
            self.deployed.warnings.append(message)

    def function_for_arn(self, arn: Any) -> str | None:
        """The logical id of the template function an ARN names (with or without a version or alias).

        A version's or alias's ARN is ``<function ARN>:<qualifier>``; locally every version and
        alias runs the function's current code. None when no function of the template that runs
        locally has that ARN.
        """
        for logical_id, spec in self.deployed.functions.items():
            if arn == spec.arn or (isinstance(arn, str) and arn.startswith(spec.arn + ":")):
                return logical_id
        return None

    def default_name(self, resource: Resource, max_length: int = 255) -> str:
        """The deterministic physical name of an unnamed resource: ``<stack>-<LogicalId>``."""
        return f"{self.stack_name}-{resource.logical_id}"[:max_length]

    def arn(self, service: str, resource_part: str, region: str | None = None) -> str:
        region = self.region if region is None else region
        return f"arn:aws:{service}:{region}:{self.account_id}:{resource_part}"


class ResourceType(abc.ABC):
    """Handler for one or more CloudFormation resource types."""

    types: ClassVar[tuple[str, ...]]
    #: properties this handler turns into local behaviour
    emulated: ClassVar[frozenset[str]] = frozenset()
    #: properties that have no local meaning (IAM, tracing, retention, ...): accepted silently
    no_local_meaning: ClassVar[frozenset[str]] = frozenset()
    #: True when the resource exists only as a name locally (nothing is created anywhere)
    no_op: ClassVar[bool] = False

    def check_properties(self, resource: Resource, context: DeployContext) -> None:
        for name in resource.properties:
            if name not in self.emulated and name not in self.no_local_meaning:
                context.warn(
                    f"{resource.logical_id} ({resource.type}): property {name} is not emulated locally"
                )

    @abc.abstractmethod
    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        """Ensures the resource exists locally and returns its Ref value and attributes."""
