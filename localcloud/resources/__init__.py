"""Handlers of the CloudFormation resource types the local cloud deploys, one module per AWS service.

Each handler maps the CloudFormation properties onto the service's own API, called with boto3
against the local endpoint (moto): the resource ends up exactly as a client of the real service
would see it, and a handler never reaches into moto's internals. Lambda functions and HTTP APIs
are run by the local cloud itself (worker processes, the local gateway), CloudFront distributions
by the local edge, custom resources by invoking their function. Physical names are deterministic
(``<stack>-<LogicalId>`` unless the template names the resource) so that a restart, persisted
state and ``localcloud invoke`` all find the same resources again.

The types are those of the SAM transform's output: no ``AWS::Serverless::*`` type is handled here.
"""

from __future__ import annotations

from localcloud.cloudfront import CLOUDFRONT_RESOURCE_TYPES
from localcloud.custom_resources import CUSTOM_RESOURCE_TYPES, is_custom_resource
from localcloud.resource_types import ResourceType
from localcloud.resources.apigatewayv2 import APIGATEWAYV2_RESOURCE_TYPES
from localcloud.resources.awslambda import (
    LambdaAlias,
    LambdaEventInvokeConfig,
    LambdaFunction,
    LambdaLayerVersion,
    LambdaVersion,
)
from localcloud.resources.cognito import CognitoUserPool, CognitoUserPoolClient, CognitoUserPoolGroup
from localcloud.resources.dynamodb import DynamoDbTable
from localcloud.resources.ecs import ECS_RESOURCE_TYPES
from localcloud.resources.events import EventBus, EventsRule
from localcloud.resources.noop import NoOpResource
from localcloud.resources.s3 import S3Bucket
from localcloud.resources.sns import SnsSubscription, SnsTopic
from localcloud.resources.sqs import SqsQueue
from localcloud.resources.stepfunctions import StateMachine

__all__ = ["REGISTRY", "handler_for", "support_of"]

REGISTRY: dict[str, ResourceType] = {
    resource_type: handler
    for handler in (
        DynamoDbTable(),
        S3Bucket(),
        CognitoUserPool(),
        CognitoUserPoolClient(),
        CognitoUserPoolGroup(),
        SqsQueue(),
        SnsTopic(),
        SnsSubscription(),
        EventsRule(),
        EventBus(),
        StateMachine(),
        LambdaFunction(),
        LambdaVersion(),
        LambdaAlias(),
        LambdaLayerVersion(),
        LambdaEventInvokeConfig(),
        *APIGATEWAYV2_RESOURCE_TYPES,
        *ECS_RESOURCE_TYPES,
        *CLOUDFRONT_RESOURCE_TYPES,
        *CUSTOM_RESOURCE_TYPES,
        NoOpResource(),
    )
    for resource_type in handler.types
}


def handler_for(resource_type: str) -> ResourceType | None:
    """The handler of a type; every ``Custom::<Name>`` is a custom resource."""
    if is_custom_resource(resource_type):
        return REGISTRY["AWS::CloudFormation::CustomResource"]
    return REGISTRY.get(resource_type)


def support_of(resource_type: str) -> str:
    """``emulated``, ``no-op`` (exists as a name only) or ``unsupported`` (reported at start)."""
    handler = handler_for(resource_type)
    if handler is None:
        return "unsupported"
    return "no-op" if handler.no_op else "emulated"
