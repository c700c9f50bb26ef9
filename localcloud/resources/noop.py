"""Resource types with no local meaning: they exist as a name (for ``Ref``/``GetAtt``) only."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from localcloud.resource_types import (
    DeployContext,
    Physical,
    ResourceType,
)
from localcloud.template import Resource

__all__ = ["NoOpResource"]


class NoOpResource(ResourceType):
    """Resource types with no local meaning: they exist as a name (for ``Ref``/``GetAtt``) only.

    Logs go to the dev console; IAM and bucket policies are not enforced locally (moto does not
    evaluate them either); deployment machinery (CodeDeploy, alarms) has nothing to act on.
    An origin access control has nothing to sign locally: it gets a CloudFront-shaped id only
    (distributions are :mod:`localcloud.cloudfront`'s).
    """

    no_op = True
    #: resource type -> (name property, ARN pattern using {name}, {region}, {account})
    _NAMING: ClassVar[dict[str, tuple[str, str]]] = {
        "AWS::Logs::LogGroup": ("LogGroupName", "arn:aws:logs:{region}:{account}:log-group:{name}:*"),
        "AWS::IAM::Role": ("RoleName", "arn:aws:iam::{account}:role/{name}"),
        "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "arn:aws:iam::{account}:policy/{name}"),
        "AWS::IAM::Policy": ("PolicyName", ""),
        "AWS::S3::BucketPolicy": ("", ""),
        "AWS::Lambda::Permission": ("", ""),
        "AWS::CloudWatch::Alarm": ("AlarmName", "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"),
        "AWS::CloudWatch::Dashboard": ("DashboardName", ""),
        "AWS::CodeDeploy::Application": ("ApplicationName", ""),
        "AWS::CodeDeploy::DeploymentGroup": ("DeploymentGroupName", ""),
        "AWS::Logs::MetricFilter": ("FilterName", ""),
        "AWS::Logs::SubscriptionFilter": ("FilterName", ""),
        "AWS::SQS::QueuePolicy": ("", ""),
        "AWS::CloudFront::OriginAccessControl": ("", ""),
        "AWS::CloudFront::ResponseHeadersPolicy": ("", ""),
    }
    types = tuple(_NAMING)

    def check_properties(self, resource: Resource, context: DeployContext) -> None:
        """Every property of a no-op resource has no local meaning."""

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        name_property, arn_pattern = self._NAMING[resource.type]
        name = resource.properties.get(name_property) if name_property else None
        name = str(context.resolve(name, resource.logical_id)) if name else context.default_name(resource)
        attributes: dict[str, Any] = {}
        if arn_pattern:
            attributes["Arn"] = arn_pattern.format(
                name=name, region=context.region, account=context.account_id
            )
        if resource.type == "AWS::IAM::Role":
            attributes["RoleId"] = "AROA" + hashlib.sha256(name.encode()).hexdigest()[:17].upper()
        if resource.type == "AWS::IAM::ManagedPolicy":
            return Physical(ref=attributes["Arn"], attributes=attributes)
        if resource.type.startswith("AWS::CloudFront::"):
            # Ref and Id are an id as CloudFront makes them (E + 13 characters), derived from the name
            digest = hashlib.sha256(name.encode()).hexdigest()[:13]
            attributes["Id"] = "E" + digest.upper()
            return Physical(ref=attributes["Id"], attributes=attributes)
        return Physical(ref=name, attributes=attributes)
