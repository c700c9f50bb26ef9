"""``AWS::SQS::Queue``: a real queue in the local backend."""

from __future__ import annotations

import json

from localcloud.resource_types import (
    DeployContext,
    Physical,
    ResourceType,
    pick,
)
from localcloud.template import Resource

__all__ = ["SqsQueue"]


class SqsQueue(ResourceType):
    """``AWS::SQS::Queue``: a real queue in the local backend (dead letters and failure events land
    there, and can be read with the AWS CLI against the local endpoint)."""

    types = ("AWS::SQS::Queue",)
    emulated = frozenset(
        {"QueueName", "MessageRetentionPeriod", "VisibilityTimeout", "DelaySeconds", "RedrivePolicy"}
    )
    no_local_meaning = frozenset(
        {"SqsManagedSseEnabled", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "Tags"}
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("QueueName") or context.default_name(resource, 80))
        attributes = {
            key: json.dumps(value) if isinstance(value, dict) else str(value)
            for key, value in pick(
                props, "MessageRetentionPeriod", "VisibilityTimeout", "DelaySeconds", "RedrivePolicy"
            ).items()
        }
        sqs = context.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # idempotent
        arn = f"arn:aws:sqs:{context.region}:{context.account_id}:{name}"
        return Physical(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})
