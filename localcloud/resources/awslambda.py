"""Lambda: ``AWS::Lambda::Function``, ``Version``, ``Alias`` and ``LayerVersion``, as the SAM transform
writes them.

A function is not run by the backend: it becomes a :class:`~localcloud.functions.FunctionSpec`,
run by the local worker processes from its local code folder (the transform's placeholder ``Code``
leads back to it, see :mod:`localcloud.transform`) with its layers' folders on ``sys.path``. It is
also created in the backend's Lambda service (with placeholder code), with its published versions
and aliases, so that ``lambda.invoke``, Step Functions Task states and EventBridge targets find it
by its ARN, a version ARN or an alias ARN; the backend routes those invocations to the workers.
Locally every version and alias runs the code on disk: there is one version of the code.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localcloud.functions import FunctionSpec
from localcloud.resource_types import (
    DeployContext,
    Physical,
    ResourceType,
    UnsupportedResourceError,
    error_code,
)
from localcloud.template import Resource

__all__ = ["LambdaAlias", "LambdaEventInvokeConfig", "LambdaFunction", "LambdaLayerVersion", "LambdaVersion"]

_PLACEHOLDER_ROLE = "localcloud-lambda"


class LambdaFunction(ResourceType):
    types = ("AWS::Lambda::Function",)
    emulated = frozenset(
        {
            "Code",
            "FunctionName",
            "Handler",
            "Runtime",
            "MemorySize",
            "Timeout",
            "Environment",
            "Layers",
            "ReservedConcurrentExecutions",
            "PackageType",
            "DeadLetterConfig",
        }
    )
    no_local_meaning = frozenset(
        {
            "Description",
            "Architectures",
            "TracingConfig",
            "Role",
            "Tags",
            "KmsKeyArn",
            "LoggingConfig",
            "CodeSigningConfigArn",
            "RuntimeManagementConfig",
            "SnapStart",
            "VpcConfig",
            "EphemeralStorage",
            "RecursiveLoop",
            "FileSystemConfigs",
            "ImageConfig",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("FunctionName") or context.default_name(resource, 64))
        arn = context.arn("lambda", f"function:{name}")
        physical = Physical(ref=name, attributes={"Arn": arn})
        runtime = str(props.get("Runtime", ""))
        code = props.get("Code") or {}
        if props.get("PackageType") == "Image" or "ImageUri" in code or "ZipFile" in code:
            context.warn(f"{resource.logical_id}: image and inline-code functions do not run locally")
            return physical
        if not runtime.startswith("python"):
            context.warn(f"{resource.logical_id}: runtime {runtime!r} does not run locally (Python only)")
            return physical
        code_dir = context.template.local_path(code)
        if code_dir is None:
            context.warn(
                f"{resource.logical_id}: code in S3 ({code}) does not run locally (a local CodeUri does)"
            )
            return physical
        if not code_dir.is_dir():
            context.warn(f"{resource.logical_id}: CodeUri {code_dir} is not a folder")
        variables = (props.get("Environment") or {}).get("Variables") or {}
        reserved = props.get("ReservedConcurrentExecutions")
        spec = FunctionSpec(
            logical_id=resource.logical_id,
            function_name=name,
            arn=arn,
            handler=str(props["Handler"]),
            runtime=runtime,
            code_dir=code_dir,
            layer_dirs=tuple(self._layer_dirs(resource, props.get("Layers") or [], context)),
            memory_mb=int(props.get("MemorySize", 128)),
            timeout_seconds=float(props.get("Timeout", 3)),
            environment={str(k): _env_string(v) for k, v in variables.items()},
            reserved_concurrency=int(reserved) if reserved is not None else None,
            dead_letter_arn=(props.get("DeadLetterConfig") or {}).get("TargetArn"),
        )
        context.deployed.functions[resource.logical_id] = spec
        _ensure_function(context, spec)
        return physical

    @staticmethod
    def _layer_dirs(resource: Resource, layers: list[Any], context: DeployContext) -> list[Path]:
        directories = []
        for layer in layers:
            if layer in context.deployed.layers:
                directories.append(context.deployed.layers[layer])
            else:
                context.warn(f"{resource.logical_id}: layer {layer} is not a local layer of this template")
        return directories


class LambdaVersion(ResourceType):
    """A published version: ``Ref`` is its ARN, ``GetAtt Version`` its number."""

    types = ("AWS::Lambda::Version",)
    emulated = frozenset({"FunctionName"})
    no_local_meaning = frozenset(
        {"Description", "CodeSha256", "ProvisionedConcurrencyConfig", "RuntimePolicy"}
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        function = _local_function(context, props["FunctionName"], resource)
        service = context.client("lambda")
        versions = [
            version["Version"]
            for page in service.get_paginator("list_versions_by_function").paginate(
                FunctionName=function.function_name
            )
            for version in page["Versions"]
            if version["Version"] != "$LATEST"
        ]
        # One version of the code locally: a restart finds the version it published before.
        number = (
            versions[-1]
            if versions
            else service.publish_version(FunctionName=function.function_name)["Version"]
        )
        arn = f"{function.arn}:{number}"
        return Physical(ref=arn, attributes={"Version": str(number), "FunctionArn": function.arn})


class LambdaAlias(ResourceType):
    """An alias on a version. Invocations through it run the function's code on disk; its name is
    what the function's context reports in ``invoked_function_arn``."""

    types = ("AWS::Lambda::Alias",)
    emulated = frozenset({"FunctionName", "FunctionVersion", "Name"})
    no_local_meaning = frozenset({"Description", "ProvisionedConcurrencyConfig", "RoutingConfig"})

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        function = _local_function(context, props["FunctionName"], resource)
        name, version = str(props["Name"]), str(props["FunctionVersion"])
        service = context.client("lambda")
        try:
            service.get_alias(FunctionName=function.function_name, Name=name)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            try:
                service.create_alias(FunctionName=function.function_name, Name=name, FunctionVersion=version)
            except ClientError as race:
                if error_code(race) != "ResourceConflictException":
                    raise
        context.deployed.functions[function.logical_id] = dataclasses.replace(function, alias=name)
        return Physical(ref=f"{function.arn}:{name}", attributes={"AliasArn": f"{function.arn}:{name}"})


class LambdaEventInvokeConfig(ResourceType):
    """How many times an asynchronous invocation is retried (0 to 2) before the dead-letter queue.

    Locally the retries come 1 and 2 seconds apart (Lambda waits about 1 and 2 minutes). An on-failure
    destination is reported, not emulated: use ``DeadLetterConfig`` (SAM's ``DeadLetterQueue``).
    """

    types = ("AWS::Lambda::EventInvokeConfig",)
    emulated = frozenset({"FunctionName", "Qualifier", "MaximumRetryAttempts"})
    no_local_meaning = frozenset({"MaximumEventAgeInSeconds"})

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        function = _local_function(context, props["FunctionName"], resource)
        if props.get("DestinationConfig"):
            context.warn(
                f"{resource.logical_id}: DestinationConfig is not emulated locally (DeadLetterConfig is)"
            )
        retries = int(props.get("MaximumRetryAttempts", function.async_retries))
        context.deployed.functions[function.logical_id] = dataclasses.replace(function, async_retries=retries)
        return Physical(ref=f"{function.function_name}:{props.get('Qualifier', '$LATEST')}")


class LambdaLayerVersion(ResourceType):
    """A layer from a local folder: its functions' workers get the folder on ``sys.path``."""

    types = ("AWS::Lambda::LayerVersion",)
    emulated = frozenset({"Content", "LayerName"})
    no_local_meaning = frozenset(
        {"Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"}
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("LayerName") or context.default_name(resource, 140))
        folder = context.template.local_path(props.get("Content"))
        if folder is None:
            raise UnsupportedResourceError(
                f"{resource.logical_id}: Content must be a local folder (ContentUri)"
            )
        arn = context.arn("lambda", f"layer:{name}:1")
        context.deployed.layers[arn] = folder
        return Physical(ref=arn, attributes={"LayerVersionArn": arn})


def _local_function(context: DeployContext, name_or_arn: Any, resource: Resource) -> FunctionSpec:
    logical_id = context.function_for_arn(name_or_arn) or next(
        (lid for lid, spec in context.deployed.functions.items() if spec.function_name == name_or_arn), None
    )
    if logical_id is None:
        raise UnsupportedResourceError(
            f"{resource.logical_id}: {name_or_arn} is not a function of this template that runs locally"
        )
    return context.deployed.functions[logical_id]


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The local cloud runs this function from its CodeUri folder.\n")
    return buffer.getvalue()


def _ensure_function(context: DeployContext, spec: FunctionSpec) -> None:
    """The function in the backend's Lambda service (placeholder code), found or created."""
    service = context.client("lambda")
    try:
        service.get_function(FunctionName=spec.function_name)
        return
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
    iam = context.client("iam")
    role = context.arn("iam", f"role/{_PLACEHOLDER_ROLE}", region="")
    try:
        iam.get_role(RoleName=_PLACEHOLDER_ROLE)
    except ClientError:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        try:
            iam.create_role(RoleName=_PLACEHOLDER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
        except ClientError as race:  # a parallel deployment (another invoke) created it just now
            if error_code(race) != "EntityAlreadyExists":
                raise
    try:
        service.create_function(
            FunctionName=spec.function_name,
            Runtime=spec.runtime,
            Role=role,
            Handler=spec.handler,
            Code={"ZipFile": _placeholder_zip()},
            Timeout=max(1, int(spec.timeout_seconds)),
            MemorySize=spec.memory_mb,
            Environment={"Variables": spec.environment},
        )
    except ClientError as race:
        if error_code(race) != "ResourceConflictException":
            raise


def _env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
