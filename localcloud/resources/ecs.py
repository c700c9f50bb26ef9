"""ECS on Fargate, locally: ``AWS::ECS::TaskDefinition``, ``AWS::ECS::Service`` and the Cloud Map
``AWS::ServiceDiscovery::Service`` a service registers in, as ``StoreCompute=fargate`` uses them.

No container runs (there is no Docker here): each task is a local process, started by
:mod:`localcloud.containers` from what the task definition says -- the container's command, its
environment, its port, its service's ``DesiredCount`` -- with the image's filesystem mapped onto the
repository: the task definition's ``Metadata`` names the Dockerfile ``make deploy`` builds the image
from (``Dockerfile``, ``DockerContext``, as SAM names them for image functions), and the folders that
Dockerfile copies into its ``WORKDIR`` become the process's ``PYTHONPATH``; it runs in the
Dockerfile's own folder (the service's). A Cloud Map service's ARN then resolves to the 127.0.0.1
ports of the tasks registered in it, which is where the local gateway sends a VPC-link integration.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.resource_types import DeployContext, Physical, ResourceType, UnsupportedResourceError
from localcloud.template import Resource

__all__ = [
    "EcsService",
    "EcsTaskDefinition",
    "ServiceDiscoveryService",
    "ServiceSpec",
    "TaskSpec",
    "image_layout",
]


@dataclass(frozen=True)
class TaskSpec:
    """One task definition's (single) container, as a local process runs it."""

    #: the command, its container paths already mapped to local files
    command: tuple[str, ...]
    environment: dict[str, str]
    port: int
    #: the folders the image copies into its working directory (PYTHONPATH), latest copy first
    code_roots: tuple[Path, ...]
    #: the Dockerfile's folder: the process's working directory
    working_dir: Path
    #: the container's health check command (``CMD`` form; ``CMD-SHELL`` through ``/bin/sh -c``), if any
    health_check: tuple[str, ...] = ()
    #: how long ECS waits for the first healthy answer (``StartPeriod``), in seconds
    health_start_period: int = 0


@dataclass(frozen=True)
class ServiceSpec:
    task: TaskSpec
    desired_count: int
    #: ARNs of the Cloud Map services its tasks register in
    registries: tuple[str, ...]


@dataclass(frozen=True)
class ImageLayout:
    workdir: str
    #: local folder -> the container folder it is copied to, in Dockerfile order
    copies: tuple[tuple[Path, str], ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]


def image_layout(dockerfile: Path, context: Path) -> ImageLayout:
    """WORKDIR, folder COPYs, ENTRYPOINT and CMD (exec form) of a Dockerfile's last stage."""
    workdir = "/"
    copies: list[tuple[Path, str]] = []
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    for instruction, argument in _instructions(dockerfile.read_text()):
        if instruction == "FROM":
            workdir, copies, entrypoint, cmd = "/", [], (), ()
        elif instruction == "WORKDIR":
            workdir = argument if argument.startswith("/") else f"{workdir.rstrip('/')}/{argument}"
        elif instruction in ("COPY", "ADD"):
            words = [
                word
                for word in argument.split()
                if not word.startswith("--chown") and not word.startswith("--chmod")
            ]
            if any(word.startswith("--from") for word in words) or len(words) < 2:
                continue
            *sources, target = words
            target = target if target.startswith("/") else f"{workdir.rstrip('/')}/{target}"
            for source in sources:
                if (context / source).is_dir():
                    copies.append(((context / source).resolve(), target))
        elif instruction in ("CMD", "ENTRYPOINT"):
            try:
                value = tuple(str(part) for part in json.loads(argument))
            except ValueError:
                raise UnsupportedResourceError(
                    f"{dockerfile}: {instruction} must be in exec (JSON) form"
                ) from None
            if instruction == "CMD":
                cmd = value
            else:
                entrypoint = value
    return ImageLayout(workdir, tuple(copies), entrypoint, cmd)


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, argument = line.partition(" ")
            found.append((instruction.upper(), argument.strip()))
    return found


class EcsTaskDefinition(ResourceType):
    types = ("AWS::ECS::TaskDefinition",)
    emulated = frozenset({"ContainerDefinitions"})
    no_local_meaning = frozenset(
        {
            "Family",
            "RequiresCompatibilities",
            "NetworkMode",
            "Cpu",
            "Memory",
            "RuntimePlatform",
            "ExecutionRoleArn",
            "TaskRoleArn",
            "Tags",
            "EphemeralStorage",
            "Volumes",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        where = resource.logical_id
        props = context.resolve(resource.properties, where)
        family = str(props.get("Family") or context.default_name(resource, 255))
        arn = context.arn("ecs", f"task-definition/{family}:1")
        containers = props.get("ContainerDefinitions") or []
        if len(containers) != 1:
            raise UnsupportedResourceError(
                f"{where}: one container per task runs locally ({len(containers)} given)"
            )
        (container,) = containers
        dockerfile = resource.metadata.get("Dockerfile")
        if not dockerfile:
            raise UnsupportedResourceError(
                f"{where}: Metadata.Dockerfile names no image source to run locally"
            )
        base = context.template.base_dir / str(resource.metadata.get("DockerContext", "."))
        layout = image_layout(base / str(dockerfile), base)
        roots = tuple(
            local
            for local, target in reversed(layout.copies)
            if target.rstrip("/") == layout.workdir.rstrip("/")
        )
        command = tuple(container.get("EntryPoint") or layout.entrypoint) + tuple(
            container.get("Command") or layout.cmd
        )
        if not command:
            raise UnsupportedResourceError(f"{where}: the container has no command (CMD)")
        ports = [int(mapping["ContainerPort"]) for mapping in container.get("PortMappings") or []]
        context.deployed.tasks[arn] = TaskSpec(
            command=tuple(_local_path(argument, layout, roots) for argument in command),
            environment={str(v["Name"]): str(v.get("Value", "")) for v in container.get("Environment") or []},
            port=ports[0] if ports else 8080,
            code_roots=roots,
            working_dir=(base / str(dockerfile)).resolve().parent,
            health_check=_health_command((container.get("HealthCheck") or {}).get("Command") or []),
            health_start_period=int((container.get("HealthCheck") or {}).get("StartPeriod", 0)),
        )
        return Physical(ref=arn, attributes={"TaskDefinitionArn": arn})


def _health_command(command: list[Any]) -> tuple[str, ...]:
    """ECS's health check command as a process's arguments (``NONE``: no health check)."""
    kind, *rest = [str(part) for part in command] or ["NONE"]
    if kind == "CMD":
        return tuple(rest)
    if kind == "CMD-SHELL":
        return ("/bin/sh", "-c", " ".join(rest))
    return ()


def _local_path(argument: str, layout: ImageLayout, roots: tuple[Path, ...]) -> str:
    """A command argument that names a file of the image, as the local file it was copied from."""
    relative = argument.removeprefix(layout.workdir.rstrip("/") + "/")
    if "/" not in relative and "." not in relative:
        return argument
    for root in roots:
        if (root / relative).is_file():
            return str(root / relative)
    return argument


class EcsService(ResourceType):
    types = ("AWS::ECS::Service",)
    emulated = frozenset({"TaskDefinition", "DesiredCount", "ServiceRegistries", "ServiceName"})
    no_local_meaning = frozenset(
        {
            "Cluster",
            "LaunchType",
            "DeploymentConfiguration",
            "NetworkConfiguration",
            "EnableExecuteCommand",
            "PlatformVersion",
            "PropagateTags",
            "Tags",
            "HealthCheckGracePeriodSeconds",
            "CapacityProviderStrategy",
            "EnableECSManagedTags",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        where = resource.logical_id
        props = context.resolve(resource.properties, where)
        task = context.deployed.tasks.get(str(props.get("TaskDefinition")))
        if task is None:
            raise UnsupportedResourceError(f"{where}: its task definition does not run locally")
        name = str(props.get("ServiceName") or context.default_name(resource, 255))
        context.deployed.ecs_services[where] = ServiceSpec(
            task=task,
            desired_count=int(props.get("DesiredCount", 1)),
            registries=tuple(
                str(registry["RegistryArn"]) for registry in props.get("ServiceRegistries") or []
            ),
        )
        arn = context.arn("ecs", f"service/{name}")
        return Physical(ref=arn, attributes={"Name": name, "ServiceArn": arn})


class ServiceDiscoveryService(ResourceType):
    """A Cloud Map service: a name its ECS service's tasks register in (locally: their ports)."""

    types = ("AWS::ServiceDiscovery::Service",)
    emulated = frozenset({"Name"})
    no_local_meaning = frozenset(
        {
            "NamespaceId",
            "DnsConfig",
            "HealthCheckCustomConfig",
            "HealthCheckConfig",
            "Description",
            "Tags",
            "Type",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        identifier = (
            "srv-" + hashlib.sha256(f"{context.stack_name}/{resource.logical_id}".encode()).hexdigest()[:16]
        )
        arn = context.arn("servicediscovery", f"service/{identifier}")
        return Physical(
            ref=identifier, attributes={"Arn": arn, "Id": identifier, "Name": str(props.get("Name", ""))}
        )


ECS_RESOURCE_TYPES: tuple[ResourceType, ...] = (EcsTaskDefinition(), EcsService(), ServiceDiscoveryService())
