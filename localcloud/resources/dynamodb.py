"""``AWS::DynamoDB::Table``: a real table in the local backend (keys, indexes, TTL, streams)."""

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

__all__ = ["DynamoDbTable", "ensure_table"]


class DynamoDbTable(ResourceType):
    types = ("AWS::DynamoDB::Table",)
    emulated = frozenset(
        {
            "TableName",
            "AttributeDefinitions",
            "KeySchema",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "BillingMode",
            "ProvisionedThroughput",
            "StreamSpecification",
            "TimeToLiveSpecification",
            "SSESpecification",
            "TableClass",
            "DeletionProtectionEnabled",
            "Tags",
        }
    )
    no_local_meaning = frozenset(
        {
            "PointInTimeRecoverySpecification",
            "ContributorInsightsSpecification",
            "ResourcePolicy",
            "WarmThroughput",
            "OnDemandThroughput",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("TableName") or context.default_name(resource))
        return ensure_table(context, resource.logical_id, name, self.create_arguments(name, props), props)

    @staticmethod
    def create_arguments(name: str, props: dict[str, Any]) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "ProvisionedThroughput" in props:
            arguments["ProvisionedThroughput"] = {
                k: int(v) for k, v in props["ProvisionedThroughput"].items()
            }
        index_keys = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(kind):
                arguments[kind] = [pick(index, *index_keys) for index in props[kind]]
        stream = props.get("StreamSpecification")
        if stream:
            arguments["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        sse = props.get("SSESpecification")
        if sse:
            arguments["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False))}
            if sse.get("SSEType"):
                arguments["SSESpecification"]["SSEType"] = sse["SSEType"]
            if sse.get("KMSMasterKeyId"):
                arguments["SSESpecification"]["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
        if props.get("Tags"):
            arguments["Tags"] = tag_list(props["Tags"])
        if props.get("TableClass"):
            arguments["TableClass"] = props["TableClass"]
        if "DeletionProtectionEnabled" in props:
            arguments["DeletionProtectionEnabled"] = bool(props["DeletionProtectionEnabled"])
        return arguments


def ensure_table(
    context: DeployContext, logical_id: str, name: str, arguments: dict[str, Any], props: dict[str, Any]
) -> Physical:
    dynamodb = context.client("dynamodb")
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
        if table["KeySchema"] != arguments["KeySchema"]:
            context.warn(
                f"{logical_id}: table {name} already exists locally with keys {table['KeySchema']}, "
                f"the template says {arguments['KeySchema']}; delete the persisted state to recreate it"
            )
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        try:
            table = dynamodb.create_table(**arguments)["TableDescription"]
        except ClientError as race:  # another deployment (a parallel invoke) created it just now
            if error_code(race) != "ResourceInUseException":
                raise
            table = dynamodb.describe_table(TableName=name)["Table"]
    ttl = props.get("TimeToLiveSpecification")
    current_ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] if ttl else {}
    wanted_ttl = {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl.get("AttributeName")} if ttl else {}
    if ttl and ttl.get("Enabled") and {k: current_ttl.get(k) for k in wanted_ttl} != wanted_ttl:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    attributes = {"Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        attributes["StreamArn"] = table["LatestStreamArn"]
    return Physical(ref=name, attributes=attributes)
