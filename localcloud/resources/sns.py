"""``AWS::SNS::Topic`` and ``AWS::SNS::Subscription``: real topics and subscriptions in the local
backend. Nothing is sent outside this machine: an email subscription stays pending confirmation."""

from __future__ import annotations

from localcloud.resource_types import DeployContext, Physical, ResourceType, tag_list
from localcloud.template import Resource

__all__ = ["SnsSubscription", "SnsTopic"]


class SnsTopic(ResourceType):
    types = ("AWS::SNS::Topic",)
    emulated = frozenset({"TopicName", "DisplayName", "FifoTopic", "Tags"})
    no_local_meaning = frozenset(
        {"KmsMasterKeyId", "DeliveryStatusLogging", "ArchivePolicy", "DataProtectionPolicy"}
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("TopicName") or context.default_name(resource, 256))
        attributes = {key: str(props[key]) for key in ("DisplayName", "FifoTopic") if key in props}
        arguments = {"Tags": tag_list(props["Tags"])} if props.get("Tags") else {}
        arn = context.client("sns").create_topic(Name=name, Attributes=attributes, **arguments)["TopicArn"]
        return Physical(ref=arn, attributes={"TopicArn": arn, "TopicName": name})


class SnsSubscription(ResourceType):
    types = ("AWS::SNS::Subscription",)
    emulated = frozenset({"TopicArn", "Protocol", "Endpoint"})
    no_local_meaning = frozenset(
        {"FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "Region"}
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        answer = context.client("sns").subscribe(
            TopicArn=str(props["TopicArn"]), Protocol=str(props["Protocol"]), Endpoint=str(props["Endpoint"])
        )
        return Physical(ref=answer["SubscriptionArn"])
