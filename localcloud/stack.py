"""Deploying a template into the local backend: the local counterpart of a CloudFormation stack.

Resources are deployed in dependency order (``Ref``/``GetAtt``/``Sub`` references and
``DependsOn``), each by the handler registered for its type. A type without a handler is
reported by name and left out; so is any property a handler does not emulate. The result,
:class:`LocalStack`, holds the physical ids, the functions to run, and the APIs and CloudFront
distributions to serve. Custom resources run during the deployment, as on CloudFormation, when a
:class:`~localcloud.custom_resources.CustomResourceRunner` is given.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from localcloud import ACCOUNT_ID
from localcloud.cloudfront import DistributionSpec
from localcloud.custom_resources import CustomResourceRunner
from localcloud.functions import FunctionSpec
from localcloud.intrinsics import IntrinsicError, Resolver, references
from localcloud.resource_types import DeployContext, Deployed, Physical, UnsupportedResourceError
from localcloud.resources import REGISTRY, handler_for, support_of
from localcloud.resources.ecs import ServiceSpec
from localcloud.routes import ApiSpec
from localcloud.template import Template, load_template

__all__ = [
    "REGISTRY",
    "DeployError",
    "LocalStack",
    "deploy",
    "deploy_in_memory",
    "handler_for",
    "in_process_clients",
    "support_of",
]

_POOL_FROM_ISSUER = re.compile(r"/(?P<pool>[\w-]+_[0-9A-Za-z]+)$")


class DeployError(RuntimeError):
    """The template could not be deployed locally; the message names the resource."""


@dataclass
class LocalStack:
    template: Template
    region: str
    stack_name: str
    aws_endpoint_url: str
    physical: dict[str, Physical] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    apis: dict[str, ApiSpec] = field(default_factory=dict)
    distributions: dict[str, DistributionSpec] = field(default_factory=dict)
    #: ECS services (``StoreCompute=fargate``) whose tasks run as local processes
    ecs_services: dict[str, ServiceSpec] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: deploy-time failures that did not stop the stack (a custom resource that failed)
    failures: list[str] = field(default_factory=list)

    def resolver(self) -> Resolver:
        return _resolver(self.template, self.physical)

    @property
    def main_api(self) -> ApiSpec | None:
        """The API ``apiUrl`` points at: the template's first HTTP API."""
        return next(iter(self.apis.values()), None)

    def cognito(self) -> dict[str, str | None]:
        """The user pool and app client that the main API's (first) JWT authorizer trusts."""
        pool_id = client_id = None
        api = self.main_api
        if api is not None and api.authorizers:
            authorizer = next(iter(api.authorizers.values()))
            match = _POOL_FROM_ISSUER.search(authorizer.issuer)
            pool_id = match.group("pool") if match else None
            client_id = authorizer.audience[0] if authorizer.audience else None
        if pool_id is None:
            pools = self.template.of_type("AWS::Cognito::UserPool")
            pool_id = (
                self.physical[pools[0].logical_id].ref
                if pools and pools[0].logical_id in self.physical
                else None
            )
        if client_id is None:
            clients = self.template.of_type("AWS::Cognito::UserPoolClient")
            if clients and clients[0].logical_id in self.physical:
                client_id = self.physical[clients[0].logical_id].ref
        return {"userPoolId": pool_id, "userPoolClientId": client_id}


def _resolver(template: Template, physical: dict[str, Physical]) -> Resolver:
    def resource_ref(logical_id: str) -> Any:
        return physical[logical_id].ref

    def resource_attribute(logical_id: str, attribute: str) -> Any:
        if logical_id not in physical:
            raise KeyError(f"unknown (or not yet created) resource {logical_id}")
        attributes = physical[logical_id].attributes
        if attribute not in attributes:
            known = ", ".join(sorted(attributes)) or "none"
            raise KeyError(f"attribute {attribute} is not available locally (known: {known})")
        return attributes[attribute]

    resolver = template.resolver()
    resolver.resource_ref = resource_ref
    resolver.resource_attribute = resource_attribute
    return resolver


def deployment_order(template: Template) -> list[str]:
    """Logical ids so that every resource comes after those it references (template order otherwise)."""
    names = list(template.resources)
    dependencies = {
        logical_id: {
            name
            for name in (
                *references(resource.properties),
                *resource.depends_on,
            )
            if name in template.resources and name != logical_id
        }
        for logical_id, resource in template.resources.items()
    }
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(names):
        ready = [name for name in names if name not in done and dependencies[name] <= done]
        if not ready:
            cycle = sorted(name for name in names if name not in done)
            raise DeployError(f"circular references between resources: {', '.join(cycle)}")
        for name in ready:
            order.append(name)
            done.add(name)
    return order


def deploy(
    template: Template,
    client: Callable[[str], Any],
    aws_endpoint_url: str,
    *,
    edge_hosts: Mapping[str, str] | None = None,
    custom_resources: CustomResourceRunner | None = None,
) -> LocalStack:
    """Creates (or finds) every resource of ``template`` in the local backend.

    ``edge_hosts`` names the local ``host:port`` of each CloudFront distribution that will be
    served (its ``DomainName``); ``custom_resources`` runs custom resources (None: they are not
    run, and get the physical id they last answered, if any).
    """
    stack = LocalStack(
        template=template,
        region=str(template.pseudo["AWS::Region"]),
        stack_name=str(template.pseudo["AWS::StackName"]),
        aws_endpoint_url=aws_endpoint_url,
        warnings=list(template.warnings),
    )
    resolver = _resolver(template, stack.physical)

    def resolve(value: Any, where: str) -> Any:
        return resolver.resolve(value, where)

    context = DeployContext(
        template=template,
        region=stack.region,
        account_id=ACCOUNT_ID,
        stack_name=stack.stack_name,
        client=client,
        resolve=resolve,
        edge_hosts=dict(edge_hosts or {}),
        custom_resources=custom_resources,
        deployed=Deployed(  # the stack's own collections, filled in place
            warnings=stack.warnings,
            functions=stack.functions,
            apis=stack.apis,
            distributions=stack.distributions,
            ecs_services=stack.ecs_services,
            failures=stack.failures,
        ),
    )
    for logical_id in deployment_order(template):
        resource = template.resources[logical_id]
        handler = handler_for(resource.type)
        if handler is None:
            context.warn(f"{logical_id}: resource type {resource.type} is not emulated locally")
            stack.physical[logical_id] = Physical(ref=context.default_name(resource))
            continue
        handler.check_properties(resource, context)
        try:
            stack.physical[logical_id] = handler.deploy(resource, context)
        except (UnsupportedResourceError, IntrinsicError) as error:
            context.warn(f"{logical_id} ({resource.type}) is left out: {error}")
            stack.physical[logical_id] = Physical(ref=context.default_name(resource))
        except (ClientError, BotoCoreError, KeyError, TypeError, ValueError) as error:
            raise DeployError(f"{logical_id} ({resource.type}): {error}") from error
    for name in template.omitted:
        stack.physical.pop(name, None)
    return stack


def in_process_clients(region: str) -> Callable[[str], Any]:
    """A boto3 client factory for an in-process moto (``mock_aws``): tools and tests that deploy
    the template without a running local cloud. The clients are made once per region and service,
    from one session: moto answers whatever client sends, and a new session would read every
    service model again (most of the cost of deploying a few tables)."""

    def client(service: str) -> Any:
        return _in_process_client(region, service)

    return client


@functools.cache
def _in_process_client(region: str, service: str) -> Any:
    return _in_process_session(region).client(service)


@functools.cache
def _in_process_session(region: str) -> Any:
    import boto3  # only where it is used: the local cloud's own clients come from its backend

    return boto3.session.Session(region_name=region)


def deploy_in_memory(template_path: Path, parameter_overrides: Mapping[str, str] | None = None) -> LocalStack:
    """The template deployed into an in-process moto (call inside ``mock_aws``)."""
    template = load_template(template_path, parameter_overrides)
    return deploy(template, in_process_clients(str(template.pseudo["AWS::Region"])), "")
