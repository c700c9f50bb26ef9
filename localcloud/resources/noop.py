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
    evaluate them either); deployment machinery (CodeDeploy, alarms) has nothing to act on;
    networking (VPC, subnets, security groups, endpoints, the VPC link) has no meaning on
    127.0.0.1; ECS clusters, ECR repositories and auto scaling neither (the local cloud runs each
    ECS service's tasks from the folders its image is built from, at its DesiredCount).
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
        # Networking has no local meaning: everything listens on 127.0.0.1 (ids below)
        "AWS::EC2::VPC": ("", ""),
        "AWS::EC2::Subnet": ("", ""),
        "AWS::EC2::RouteTable": ("", ""),
        "AWS::EC2::SubnetRouteTableAssociation": ("", ""),
        "AWS::EC2::SecurityGroup": ("", ""),
        "AWS::EC2::SecurityGroupIngress": ("", ""),
        "AWS::EC2::SecurityGroupEgress": ("", ""),
        "AWS::EC2::VPCEndpoint": ("", ""),
        "AWS::ApiGatewayV2::VpcLink": ("Name", ""),
        "AWS::ServiceDiscovery::PrivateDnsNamespace": (
            "Name",
            "arn:aws:servicediscovery:{region}:{account}:namespace/{id}",
        ),
        # Images are built by `make deploy`; the local cloud runs each task from its folders
        "AWS::ECR::Repository": ("RepositoryName", "arn:aws:ecr:{region}:{account}:repository/{name}"),
        "AWS::ECS::Cluster": ("ClusterName", "arn:aws:ecs:{region}:{account}:cluster/{name}"),
        # Auto scaling has no local meaning: each ECS service runs its DesiredCount tasks
        "AWS::ApplicationAutoScaling::ScalableTarget": ("", ""),
        "AWS::ApplicationAutoScaling::ScalingPolicy": ("PolicyName", ""),
        "AWS::CloudFormation::WaitConditionHandle": ("", ""),
    }
    #: types whose Ref is an id shaped like AWS's (prefix and hex), not a name
    _ID_PREFIXES: ClassVar[dict[str, str]] = {
        "AWS::EC2::VPC": "vpc-",
        "AWS::EC2::Subnet": "subnet-",
        "AWS::EC2::RouteTable": "rtb-",
        "AWS::EC2::SubnetRouteTableAssociation": "rtbassoc-",
        "AWS::EC2::SecurityGroup": "sg-",
        "AWS::EC2::SecurityGroupIngress": "sgr-",
        "AWS::EC2::SecurityGroupEgress": "sgr-",
        "AWS::EC2::VPCEndpoint": "vpce-",
        "AWS::ApiGatewayV2::VpcLink": "",
        "AWS::ServiceDiscovery::PrivateDnsNamespace": "ns-",
    }
    types = tuple(_NAMING)

    def check_properties(self, resource: Resource, context: DeployContext) -> None:
        """Every property of a no-op resource has no local meaning."""

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        name_property, arn_pattern = self._NAMING[resource.type]
        name = resource.properties.get(name_property) if name_property else None
        name = str(context.resolve(name, resource.logical_id)) if name else context.default_name(resource)
        digest = hashlib.sha256(f"{context.stack_name}/{resource.logical_id}".encode()).hexdigest()
        attributes: dict[str, Any] = {}
        if arn_pattern:
            attributes["Arn"] = arn_pattern.format(
                name=name, id=f"ns-{digest[:16]}", region=context.region, account=context.account_id
            )
        if resource.type in self._ID_PREFIXES:
            identifier = self._ID_PREFIXES[resource.type] + digest[:17]
            attributes.update(Id=identifier, GroupId=identifier, VpcLinkId=identifier, VpcId=identifier)
            return Physical(ref=identifier, attributes=attributes)
        if resource.type == "AWS::ECR::Repository":
            name = name.lower()
            attributes["Arn"] = arn_pattern.format(
                name=name, id="", region=context.region, account=context.account_id
            )
            attributes["RepositoryUri"] = (
                f"{context.account_id}.dkr.ecr.{context.region}.amazonaws.com/{name}"
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
