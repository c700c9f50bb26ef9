"""The SAM transform, run locally: ``template.yaml`` becomes the CloudFormation that AWS deploys.

``sam deploy`` hands the template to CloudFormation, which runs the ``AWS::Serverless-2016-10-31``
transform (aws-sam-translator) and deploys its output. The local cloud runs the same translator on
the same template with the same parameter values, and deploys that output: a SAM property the
transform drops or mangles is dropped or mangled locally too, and nothing about routes, auth,
CORS, aliases or event sources is read by rules of our own.

Two things differ from ``sam deploy``, both before the transform and neither changing its result:

* local code locations. ``sam package`` uploads each local ``CodeUri``/``ContentUri`` (and an
  HttpApi's ``DefinitionUri``) to S3 and puts the S3 location in the template; here each becomes a
  placeholder S3 location (bucket :data:`LOCAL_CODE_BUCKET`, key = an index) and the folder is
  kept beside, so ``Code``/``Content``/``BodyS3Location`` of the output lead back to the folder.
* a state machine's local ``DefinitionUri`` is read and passed as ``Definition`` (``sam package``
  would upload it; the state machine's definition and substitutions come out the same).

The transform needs no AWS call: the region is given, and managed policy names are looked up in
:data:`MANAGED_POLICIES` (the transform turns ``Policies: [Name]`` into that ARN).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.metadata
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "LOCAL_CODE_BUCKET",
    "MANAGED_POLICIES",
    "SAM_TRANSFORM",
    "TransformError",
    "Transformed",
    "sam_transform",
]

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
#: the placeholder bucket of local code folders in the transformed template
LOCAL_CODE_BUCKET = "localcloud-local-code"
#: AWS managed policies a SAM template names by name (``Policies: [AWSLambdaRole]``), and those the
#: transform adds itself (basic execution role, X-Ray for ``Tracing: Active``)
MANAGED_POLICIES = {
    name: f"arn:aws:iam::aws:policy/{path}{name}"
    for path, names in {
        "service-role/": (
            "AWSLambdaBasicExecutionRole",
            "AWSLambdaVPCAccessExecutionRole",
            "AWSLambdaDynamoDBExecutionRole",
            "AWSLambdaKinesisExecutionRole",
            "AWSLambdaSQSQueueExecutionRole",
            "AWSLambdaRole",
            "AWSCodeDeployRoleForLambda",
        ),
        "": (
            "AWSXrayWriteOnlyAccess",
            "AWSXRayDaemonWriteAccess",
            "AmazonDynamoDBFullAccess",
            "AmazonDynamoDBReadOnlyAccess",
            "AmazonS3FullAccess",
            "AmazonS3ReadOnlyAccess",
            "AmazonSQSFullAccess",
            "AmazonSNSFullAccess",
            "AmazonEventBridgeFullAccess",
            "AWSStepFunctionsFullAccess",
            "CloudWatchLogsFullAccess",
        ),
    }.items()
    for name in names
}

# (SAM resource type, property) -> what it holds: a folder of code, or an OpenAPI document
_LOCAL_LOCATIONS = {
    ("AWS::Serverless::Function", "CodeUri"),
    ("AWS::Serverless::LayerVersion", "ContentUri"),
    ("AWS::Serverless::HttpApi", "DefinitionUri"),
    ("AWS::Lambda::Function", "Code"),
}


class TransformError(ValueError):
    """The SAM transform refused the template; the message is the transform's own."""


@dataclass(frozen=True)
class Transformed:
    """The CloudFormation template AWS would deploy, and the local paths its placeholders stand for."""

    document: dict[str, Any]
    #: placeholder key (in :data:`LOCAL_CODE_BUCKET`) -> local folder or file
    local_paths: dict[str, Path]

    def local_path(self, location: Any) -> Path | None:
        """The local path of a transformed ``Code``/``Content``/``BodyS3Location``, if it is ours."""
        if not isinstance(location, Mapping):
            return None
        bucket = location.get("S3Bucket", location.get("Bucket"))
        key = location.get("S3Key", location.get("Key"))
        return self.local_paths.get(str(key)) if bucket == LOCAL_CODE_BUCKET else None


def uses_sam_transform(document: Mapping[str, Any]) -> bool:
    transforms = document.get("Transform") or []
    return SAM_TRANSFORM in ([transforms] if isinstance(transforms, str) else transforms)


def sam_transform(
    document: dict[str, Any], parameter_values: Mapping[str, Any], base_dir: Path
) -> Transformed:
    """Runs the SAM transform on ``document`` (not changed) as CloudFormation would.

    ``parameter_values`` are the template's parameters (list types as lists, as CloudFormation
    passes them to a transform) and the pseudo parameters ``AWS::Region``, ``AWS::AccountId``,
    ``AWS::Partition``, ``AWS::StackName``.
    """
    source = copy.deepcopy(document)
    local_paths = _replace_local_locations(source, base_dir)
    cache = _cache_file(source, parameter_values)
    with contextlib.suppress(OSError, ValueError):
        output = json.loads(cache.read_text())
        os.utime(cache)  # recently used: kept
        return Transformed(output, local_paths)
    # Imported here: the translator costs a few hundred ms of imports that only a transform needs.
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # feature-toggle chatter
    region = str(parameter_values["AWS::Region"])
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        output = translator.translate(
            source, dict(parameter_values), get_managed_policy_map=lambda: MANAGED_POLICIES
        )
    except InvalidDocumentException as error:
        causes = "; ".join(cause.message for cause in error.causes)
        raise TransformError(f"the SAM transform refused the template: {causes}") from None
    _remember(cache, output)
    return Transformed(output, local_paths)


#: transforms kept in the cache, the most recently used
CACHE_ENTRIES = 32


def _cache_file(source: dict[str, Any], parameter_values: Mapping[str, Any]) -> Path:
    """Where the transform of exactly this input is kept: the document (code locations replaced,
    state machine definitions read in), every parameter and pseudo parameter, and the translator's
    version. In the user's cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``): a start after
    the first skips the transform -- a second -- until the template or a parameter changes."""
    key = json.dumps(
        [source, dict(parameter_values), importlib.metadata.version("aws-sam-translator")],
        sort_keys=True,
        default=str,
    )
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "localcloud-transform"
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def _remember(cache: Path, output: dict[str, Any]) -> None:
    """Keeps the transform (written whole, then renamed: a reader never sees half a file), and only
    the :data:`CACHE_ENTRIES` most recently used."""
    with contextlib.suppress(OSError, TypeError, ValueError):
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(output))
        partial.replace(cache)
        entries = sorted(cache.parent.glob("*.json"), key=lambda entry: entry.stat().st_mtime, reverse=True)
        for stale in entries[CACHE_ENTRIES:]:
            stale.unlink(missing_ok=True)


def _replace_local_locations(document: dict[str, Any], base_dir: Path) -> dict[str, Path]:
    """Local code folders and definition files -> placeholder S3 URIs, as ``sam package`` would
    upload them; state machine definitions are read in place."""
    local_paths: dict[str, Path] = {}

    def placeholder(value: Any) -> Any:
        if not isinstance(value, str) or value.startswith("s3://"):
            return value
        key = str(len(local_paths))
        local_paths[key] = (base_dir / value).resolve()
        return f"s3://{LOCAL_CODE_BUCKET}/{key}"

    function_globals = (document.get("Globals") or {}).get("Function") or {}
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = placeholder(function_globals["CodeUri"])
    for resource in (document.get("Resources") or {}).values():
        if not isinstance(resource, dict):
            continue
        properties = resource.get("Properties") or {}
        resource_type = resource.get("Type")
        for kind, name in _LOCAL_LOCATIONS:
            if resource_type == kind and name in properties:
                value = placeholder(properties[name])
                if kind == "AWS::Lambda::Function" and isinstance(value, str):
                    bucket, _, key = value.removeprefix("s3://").partition("/")
                    value = {"S3Bucket": bucket, "S3Key": key}
                properties[name] = value
        if resource_type == "AWS::Serverless::StateMachine" and isinstance(
            properties.get("DefinitionUri"), str
        ):
            path = base_dir / properties.pop("DefinitionUri")
            properties["Definition"] = _read_document(path)
    return local_paths


def _read_document(path: Path) -> Any:
    import yaml

    from localcloud.template import load_yaml  # JSON is YAML; CloudFormation's tags included

    try:
        return load_yaml(path)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise TransformError(f"{path}: {error}") from None


def dumps(document: Any) -> str:
    """The transformed template as text (``localcloud transform`` prints it)."""
    return json.dumps(document, indent=2, sort_keys=False, default=str)
