"""``AWS::S3::Bucket``: a real bucket in the local backend (versioning, CORS, EventBridge notifications)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from localcloud.resource_types import (
    DeployContext,
    Physical,
    ResourceType,
    error_code,
    pick,
    tag_list,
)
from localcloud.template import Resource

__all__ = ["S3Bucket"]


class S3Bucket(ResourceType):
    types = ("AWS::S3::Bucket",)
    emulated = frozenset(
        {"BucketName", "VersioningConfiguration", "CorsConfiguration", "NotificationConfiguration", "Tags"}
    )
    no_local_meaning = frozenset(
        {
            "BucketEncryption",
            "PublicAccessBlockConfiguration",
            "OwnershipControls",
            "AccessControl",
            "LoggingConfiguration",
            "MetricsConfigurations",
            "AnalyticsConfigurations",
            "IntelligentTieringConfigurations",
            "InventoryConfigurations",
            "LifecycleConfiguration",
            "ReplicationConfiguration",
            "ObjectLockEnabled",
            "ObjectLockConfiguration",
            "AccelerateConfiguration",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("BucketName") or context.default_name(resource, 63).lower())
        s3 = context.client("s3")
        try:
            s3.head_bucket(Bucket=name)
        except ClientError:
            arguments: dict[str, Any] = {"Bucket": name}
            if context.region != "us-east-1":
                arguments["CreateBucketConfiguration"] = {"LocationConstraint": context.region}
            try:
                s3.create_bucket(**arguments)
            except ClientError as race:
                if error_code(race) != "BucketAlreadyOwnedByYou":
                    raise
        versioning = props.get("VersioningConfiguration")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
        cors = props.get("CorsConfiguration")
        if cors:
            rules = []
            for rule in cors.get("CorsRules", []):
                converted = pick(rule, "AllowedHeaders", "AllowedMethods", "AllowedOrigins", "ID")
                if "Id" in rule:
                    converted["ID"] = rule["Id"]
                if "ExposedHeaders" in rule:
                    converted["ExposeHeaders"] = rule["ExposedHeaders"]
                if "MaxAge" in rule:
                    converted["MaxAgeSeconds"] = int(rule["MaxAge"])
                rules.append(converted)
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        notifications = props.get("NotificationConfiguration") or {}
        for kind in notifications:
            if kind != "EventBridgeConfiguration":
                context.warn(f"{resource.logical_id}: S3 notification {kind} is not delivered locally")
        if (notifications.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
        if props.get("Tags"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(props["Tags"])})
        domain = f"{name}.s3.amazonaws.com"
        return Physical(
            ref=name,
            attributes={
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": domain,
                "RegionalDomainName": f"{name}.s3.{context.region}.amazonaws.com",
                "DualStackDomainName": f"{name}.s3.dualstack.{context.region}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{context.region}.amazonaws.com",
            },
        )
