"""Publish the web client of a deployed stack: ``web/`` and a ``config.json`` built from the stack's outputs.

``config.json`` has the same keys as the local cloud's (minus the local-only ``localConfirmUrl``),
plus the origins of the photo buckets (``uploadsOrigin``: where the upload form is POSTed;
``photosOrigin``: the renditions' presigned URLs), which locally are both the AWS endpoint, so the
page runs unchanged against either. ``index.html`` is published with its Content-Security-Policy
filled in from that config.json (:func:`localcloud.webpage.render_index`, as ``make dev`` serves it):
the page may reach this stack's endpoints and no other. The files go to the stack's private ``WebBucket``;
files no longer in ``web/`` are removed from it; then CloudFront is told to drop its copies
(``/*``, which covers ``/config.json`` and every file just published).

    python -m tools.publish_web [--config-env ENV | --stack NAME] [--region REGION] [--dry-run]

(``make publish-web [ENV=prod] [STACK=name] [REGION=region]``). The stack name defaults to
``stack_name`` of ``samconfig.toml``'s environment (``default``); AWS credentials and region come
from the usual places (environment, profile), as for ``sam deploy``.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import tomllib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from localcloud.webpage import render_index

__all__ = [
    "PublishError",
    "SiteFile",
    "build_config",
    "main",
    "publish",
    "site_files",
    "stack_name_from_samconfig",
]

ROOT = Path(__file__).resolve().parents[1]
WEB_DIR = ROOT / "web"
SAMCONFIG = ROOT / "samconfig.toml"
CONFIG_KEY = "config.json"
INDEX_KEY = "index.html"
#: the stack's endpoints must be seen at once (CloudFront does not cache it either)
CONFIG_CACHE_CONTROL = "no-store"
#: browsers may keep the site's files for five minutes; CloudFront's copies are invalidated on publish
SITE_CACHE_CONTROL = "public, max-age=300"
REQUIRED_OUTPUTS = ("ApiUrl", "Region", "UserPoolId", "UserPoolClientId", "WebUrl", "WebBucketName")
#: config key -> (the output naming the origin, the output naming the bucket to make it from)
BUCKET_ORIGINS = {
    "uploadsOrigin": ("UploadsOrigin", "UploadsBucketName"),
    "photosOrigin": ("PhotosOrigin", "DistributionBucketName"),
}
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".webp": "image/webp",
    ".txt": "text/plain; charset=utf-8",
}


class PublishError(RuntimeError):
    """The site cannot be published; the message says why."""


@dataclass(frozen=True)
class SiteFile:
    path: Path
    key: str
    content_type: str


def stack_name_from_samconfig(path: Path = SAMCONFIG, config_env: str = "default") -> str:
    """``stack_name`` of ``[<env>.global.parameters]`` or ``[<env>.deploy.parameters]``."""
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PublishError(f"cannot read {path}: {error}") from None
    environment = document.get(config_env, {})
    for command in ("deploy", "global"):
        name = environment.get(command, {}).get("parameters", {}).get("stack_name")
        if name:
            return str(name)
    raise PublishError(f"{path} names no stack_name for environment {config_env!r}: pass --stack")


def build_config(outputs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """config.json from a stack's outputs (``describe_stacks``' ``Outputs`` list)."""
    values = {str(o["OutputKey"]): str(o["OutputValue"]) for o in outputs if "OutputValue" in o}
    missing = [key for key in REQUIRED_OUTPUTS if key not in values]
    if missing:
        raise PublishError(
            f"the stack has no output {', '.join(missing)} (is it deployed from this template?)"
        )
    apis = {"StoreApi": values["ApiUrl"]}
    if "ApiV1Url" in values:
        apis["StoreApi/v1"] = values["ApiV1Url"]
    return {
        "region": values["Region"],
        "apiUrl": values["ApiUrl"],
        "apis": apis,
        "edgeUrl": values.get("EdgeUrl"),
        "cognito": {
            "region": values["Region"],
            "userPoolId": values["UserPoolId"],
            "userPoolClientId": values["UserPoolClientId"],
            "endpointUrl": None,
        },
        "awsEndpointUrl": None,
        **{key: _bucket_origin(values, *names) for key, names in BUCKET_ORIGINS.items()},
    }


def _bucket_origin(values: dict[str, str], origin_output: str, bucket_output: str) -> str | None:
    """A bucket's origin as the photos service presigns it: virtual-hosted on the regional endpoint."""
    if origin_output in values:
        return values[origin_output].rstrip("/")
    if bucket_output in values:
        return f"https://{values[bucket_output]}.s3.{values['Region']}.amazonaws.com"
    return None


def site_files(web_dir: Path = WEB_DIR) -> list[SiteFile]:
    """The files to publish (no hidden files; a config.json of web/ would be replaced anyway)."""
    if not (web_dir / "index.html").is_file():
        raise PublishError(f"{web_dir} has no index.html")
    files = []
    for path in sorted(web_dir.rglob("*")):
        key = path.relative_to(web_dir).as_posix()
        if not path.is_file() or key == CONFIG_KEY or any(part.startswith(".") for part in key.split("/")):
            continue
        guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files.append(SiteFile(path, key, _CONTENT_TYPES.get(path.suffix.lower(), guessed)))
    return files


def stack_outputs(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise PublishError(f"cannot describe stack {stack}: {error}") from None
    return list(stacks[0].get("Outputs", []))


def _distribution_id(cloudfront: Any, web_url: str) -> str:
    """The distribution whose domain name is the WebUrl output's host."""
    host = urlsplit(web_url).hostname
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for distribution in page.get("DistributionList", {}).get("Items", []):
            if distribution["DomainName"] == host:
                return str(distribution["Id"])
    raise PublishError(f"no CloudFront distribution serves {web_url}")


def _stale_keys(s3: Any, bucket: str, keep: set[str]) -> list[str]:
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [item["Key"] for item in page.get("Contents", []) if item["Key"] not in keep]
    return stale


def _body(file: SiteFile, config: dict[str, Any]) -> bytes:
    """The file as published: index.html with this stack's Content-Security-Policy, others as they are."""
    if file.key != INDEX_KEY:
        return file.path.read_bytes()
    try:
        return render_index(file.path.read_text(encoding="utf-8"), config).encode()
    except ValueError as error:
        raise PublishError(f"{file.path}: {error}") from None


def publish(
    stack: str,
    *,
    cloudformation: Any,
    s3: Any,
    cloudfront: Any,
    web_dir: Path = WEB_DIR,
    dry_run: bool = False,
    say: Any = print,
) -> dict[str, Any]:
    """Uploads the site and config.json, removes stale files, invalidates CloudFront's copies.

    Returns what was done: ``config``, ``bucket``, ``uploaded``, ``deleted``, ``invalidation``.
    """
    outputs = stack_outputs(cloudformation, stack)
    config = build_config(outputs)
    values = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    bucket, web_url = values["WebBucketName"], values["WebUrl"]
    files = site_files(web_dir)
    bodies = {file.key: _body(file, config) for file in files}  # before any upload: all or nothing
    distribution = _distribution_id(cloudfront, web_url)
    keys = {f.key for f in files} | {CONFIG_KEY}
    stale = _stale_keys(s3, bucket, keys)
    result: dict[str, Any] = {"config": config, "bucket": bucket, "uploaded": sorted(keys), "deleted": stale}
    if dry_run:
        say(json.dumps(result, indent=2))
        return result
    for file in files:
        s3.put_object(
            Bucket=bucket,
            Key=file.key,
            Body=bodies[file.key],
            ContentType=file.content_type,
            CacheControl=SITE_CACHE_CONTROL,
        )
    s3.put_object(
        Bucket=bucket,
        Key=CONFIG_KEY,
        Body=json.dumps(config, indent=2).encode(),
        ContentType="application/json",
        CacheControl=CONFIG_CACHE_CONTROL,
    )
    for start in range(0, len(stale), 1000):  # DeleteObjects takes up to 1000 keys
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in stale[start : start + 1000]]}
        )
    invalidation = cloudfront.create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": uuid.uuid4().hex},
    )["Invalidation"]["Id"]
    result["invalidation"] = invalidation
    say(f"published {len(keys)} files to s3://{bucket} (removed {len(stale)} stale)")
    say(f"invalidated CloudFront {distribution} (/*, invalidation {invalidation})")
    say(f"web client: {web_url}/")
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.publish_web", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", help="stack name (default: stack_name of samconfig.toml's environment)")
    parser.add_argument(
        "--config-env", default="default", help="samconfig.toml environment (default: default)"
    )
    parser.add_argument("--region", help="the stack's region (default: from the AWS configuration)")
    parser.add_argument("--web-dir", type=Path, default=WEB_DIR, help="the site's files (default: web/)")
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be published, change nothing"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        stack = args.stack or stack_name_from_samconfig(SAMCONFIG, args.config_env)
        session = boto3.session.Session(region_name=args.region)
        publish(
            stack,
            cloudformation=session.client("cloudformation"),
            s3=session.client("s3"),
            cloudfront=session.client("cloudfront"),
            web_dir=args.web_dir,
            dry_run=args.dry_run,
        )
    except (PublishError, ClientError, BotoCoreError) as error:
        print(f"publish-web: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
