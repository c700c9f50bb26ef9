"""Handlers for the AWS resource types the local backend (moto) can create, and the no-op types.

Each handler maps the CloudFormation properties onto the service's own API, called with boto3
against the local endpoint: the resource ends up exactly as a client of the real service would
see it, and a handler never reaches into moto's internals. Physical names are deterministic
(``<stack>-<LogicalId>`` unless the template names the resource) so that a restart, persisted
state and ``localcloud invoke`` all find the same resources again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from localcloud.resource_types import DeployContext, Physical, ResourceType, UnsupportedResourceError
from localcloud.template import Resource, load_yaml

__all__ = ["AWS_RESOURCE_TYPES", "NO_OP_RESOURCE_TYPES"]

_TAGS = frozenset({"Tags"})


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _tag_list(tags: Any) -> list[dict[str, str]]:
    if isinstance(tags, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in tags or []]


def _pick(source: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: source[name] for name in names if name in source}


# ---------------------------------------------------------------------- DynamoDB
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
                arguments[kind] = [_pick(index, *index_keys) for index in props[kind]]
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
            arguments["Tags"] = _tag_list(props["Tags"])
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
        if _error_code(error) != "ResourceNotFoundException":
            raise
        try:
            table = dynamodb.create_table(**arguments)["TableDescription"]
        except ClientError as race:  # another deployment (a parallel invoke) created it just now
            if _error_code(race) != "ResourceInUseException":
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


class SimpleTable(ResourceType):
    """``AWS::Serverless::SimpleTable``: a table with one string (or number) hash key."""

    types = ("AWS::Serverless::SimpleTable",)
    emulated = frozenset({"TableName", "PrimaryKey", "ProvisionedThroughput", "SSESpecification", "Tags"})
    no_local_meaning = frozenset({"PointInTimeRecoverySpecification"})
    _TYPES: ClassVar[dict[str, str]] = {"String": "S", "Number": "N", "Binary": "B"}

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        table_props: dict[str, Any] = {
            "AttributeDefinitions": [
                {"AttributeName": key["Name"], "AttributeType": self._TYPES[key["Type"]]}
            ],
            "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
            "BillingMode": "PROVISIONED" if "ProvisionedThroughput" in props else "PAY_PER_REQUEST",
        }
        table_props.update(_pick(props, "ProvisionedThroughput", "SSESpecification", "Tags"))
        name = str(props.get("TableName") or context.default_name(resource))
        arguments = DynamoDbTable.create_arguments(name, table_props)
        return ensure_table(context, resource.logical_id, name, arguments, table_props)


# ---------------------------------------------------------------------- S3
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
                if _error_code(race) != "BucketAlreadyOwnedByYou":
                    raise
        versioning = props.get("VersioningConfiguration")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
        cors = props.get("CorsConfiguration")
        if cors:
            rules = []
            for rule in cors.get("CorsRules", []):
                converted = _pick(rule, "AllowedHeaders", "AllowedMethods", "AllowedOrigins", "ID")
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
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tag_list(props["Tags"])})
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


# ---------------------------------------------------------------------- Cognito
class CognitoUserPool(ResourceType):
    types = ("AWS::Cognito::UserPool",)
    # CloudFormation property -> CreateUserPool parameter (same name unless stated)
    _API_NAMES: ClassVar[dict[str, str]] = {
        "Policies": "Policies",
        "UsernameAttributes": "UsernameAttributes",
        "AliasAttributes": "AliasAttributes",
        "AutoVerifiedAttributes": "AutoVerifiedAttributes",
        "MfaConfiguration": "MfaConfiguration",
        "AccountRecoverySetting": "AccountRecoverySetting",
        "AdminCreateUserConfig": "AdminCreateUserConfig",
        "Schema": "Schema",
        "UsernameConfiguration": "UsernameConfiguration",
        "UserAttributeUpdateSettings": "UserAttributeUpdateSettings",
        "VerificationMessageTemplate": "VerificationMessageTemplate",
        "EmailVerificationMessage": "EmailVerificationMessage",
        "EmailVerificationSubject": "EmailVerificationSubject",
        "SmsVerificationMessage": "SmsVerificationMessage",
        "SmsAuthenticationMessage": "SmsAuthenticationMessage",
        "DeletionProtection": "DeletionProtection",
        "UserPoolTags": "UserPoolTags",
        "UserPoolAddOns": "UserPoolAddOns",
        "UserPoolTier": "UserPoolTier",
    }
    emulated = frozenset({"UserPoolName", *_API_NAMES})
    no_local_meaning = frozenset(
        {
            "EmailConfiguration",
            "SmsConfiguration",
            "EnabledMfas",
            "DeviceConfiguration",
            "WebAuthnRelyingPartyID",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("UserPoolName") or context.default_name(resource, 128))
        cognito = context.client("cognito-idp")
        pool_id = _find_user_pool(cognito, name)
        if pool_id is None:
            arguments = {api: props[cfn] for cfn, api in self._API_NAMES.items() if cfn in props}
            pool_id = cognito.create_user_pool(PoolName=name, **arguments)["UserPool"]["Id"]
        provider = f"cognito-idp.{context.region}.amazonaws.com/{pool_id}"
        return Physical(
            ref=pool_id,
            attributes={
                "Arn": context.arn("cognito-idp", f"userpool/{pool_id}"),
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
                "UserPoolId": pool_id,
            },
        )


def _find_user_pool(cognito: Any, name: str) -> str | None:
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                return str(pool["Id"])
    return None


class CognitoUserPoolClient(ResourceType):
    types = ("AWS::Cognito::UserPoolClient",)
    _API_NAMES = frozenset(
        {
            "GenerateSecret",
            "RefreshTokenValidity",
            "AccessTokenValidity",
            "IdTokenValidity",
            "TokenValidityUnits",
            "ReadAttributes",
            "WriteAttributes",
            "ExplicitAuthFlows",
            "SupportedIdentityProviders",
            "CallbackURLs",
            "LogoutURLs",
            "DefaultRedirectURI",
            "AllowedOAuthFlows",
            "AllowedOAuthScopes",
            "AllowedOAuthFlowsUserPoolClient",
            "PreventUserExistenceErrors",
            "EnableTokenRevocation",
            "EnablePropagateAdditionalUserContextData",
            "AuthSessionValidity",
        }
    )
    emulated = frozenset({"UserPoolId", "ClientName", *_API_NAMES})
    no_local_meaning = frozenset({"AnalyticsConfiguration", "RefreshTokenRotation"})

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        pool_id = str(props["UserPoolId"])
        name = str(props.get("ClientName") or resource.logical_id)
        cognito = context.client("cognito-idp")
        client: dict[str, Any] | None = None
        for page in cognito.get_paginator("list_user_pool_clients").paginate(
            UserPoolId=pool_id, MaxResults=60
        ):
            for candidate in page["UserPoolClients"]:
                if candidate["ClientName"] == name:
                    client = cognito.describe_user_pool_client(
                        UserPoolId=pool_id, ClientId=candidate["ClientId"]
                    )["UserPoolClient"]
        if client is None:
            arguments = {key: props[key] for key in self._API_NAMES if key in props}
            for key in (
                "RefreshTokenValidity",
                "AccessTokenValidity",
                "IdTokenValidity",
                "AuthSessionValidity",
            ):
                if key in arguments:
                    arguments[key] = int(arguments[key])
            client = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **arguments)[
                "UserPoolClient"
            ]
        attributes = {"ClientId": client["ClientId"], "Name": name}
        if client.get("ClientSecret"):
            attributes["ClientSecret"] = client["ClientSecret"]
        return Physical(ref=client["ClientId"], attributes=attributes)


# ---------------------------------------------------------------------- SQS
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
            for key, value in _pick(
                props, "MessageRetentionPeriod", "VisibilityTimeout", "DelaySeconds", "RedrivePolicy"
            ).items()
        }
        sqs = context.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # idempotent
        arn = f"arn:aws:sqs:{context.region}:{context.account_id}:{name}"
        return Physical(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


# ---------------------------------------------------------------------- EventBridge
#: event sources whose events the local backend emits (S3 with EventBridge notifications); a rule
#: that waits for another AWS service's events (Step Functions status changes, ...) never fires
_EMITTED_AWS_SOURCES = frozenset({"aws.s3"})
#: target services that get events locally: moto delivers to SQS, Logs and event buses; the local
#: cloud delivers to Step Functions and Lambda (``moto_internals.install_local_integrations``).
#: Others would raise inside moto and stop delivery to every rule, so they are not registered.
_DELIVERABLE_TARGET_SERVICES = frozenset({"sqs", "logs", "events", "states", "lambda"})


class EventsRule(ResourceType):
    types = ("AWS::Events::Rule",)
    # Targets are emulated per target: those moto cannot deliver to are reported one by one.
    emulated = frozenset(
        {"Name", "Description", "EventPattern", "ScheduleExpression", "State", "EventBusName", "Targets"}
    )
    no_local_meaning = frozenset({"RoleArn"})

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("Name") or context.default_name(resource, 64))
        bus = str(props.get("EventBusName") or "default")
        events = context.client("events")
        arguments: dict[str, Any] = {
            "Name": name,
            "EventBusName": bus,
            "State": props.get("State", "ENABLED"),
        }
        if "EventPattern" in props:
            pattern = props["EventPattern"]
            arguments["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        arguments.update(_pick(props, "ScheduleExpression", "Description"))
        if "ScheduleExpression" in props:
            context.warn(f"{resource.logical_id}: schedules are not triggered locally")
        pattern_sources = (props.get("EventPattern") or {}).get("source", [])
        if isinstance(pattern_sources, list):
            for source in pattern_sources:
                if str(source).startswith("aws.") and source not in _EMITTED_AWS_SOURCES:
                    context.warn(f"{resource.logical_id}: {source} events are not emitted locally")
        arn = events.put_rule(**arguments)["RuleArn"]
        deliverable = []
        for target in props.get("Targets") or []:
            service = str(target.get("Arn", "")).split(":")[2:3]
            if service and service[0] in _DELIVERABLE_TARGET_SERVICES:
                deliverable.append(_pick(target, "Id", "Arn", "Input", "InputPath", "InputTransformer"))
                for setting in _NOT_EMULATED_RULE_PROPERTIES:
                    if setting in target:
                        context.warn(
                            f"{resource.logical_id}: target {target.get('Id')} {setting} is not emulated locally"
                        )
            else:
                context.warn(
                    f"{resource.logical_id}: target {target.get('Id')} ({target.get('Arn')}) is not delivered locally"
                )
        if deliverable:
            events.put_targets(Rule=name, EventBusName=bus, Targets=deliverable)
        return Physical(ref=name, attributes={"Arn": arn})


#: SAM event source types that become an EventBridge rule targeting the resource
EVENTBRIDGE_EVENT_TYPES = frozenset({"EventBridgeRule", "CloudWatchEvent"})
_NOT_EMULATED_RULE_PROPERTIES = ("DeadLetterConfig", "RetryPolicy")


def create_event_source_rules(resource: Resource, context: DeployContext, target_arn: str) -> None:
    """The rules SAM creates for ``Events`` of type EventBridgeRule/CloudWatchEvent, for real.

    Other event types are reported by the resource's ``check_properties``.
    """
    events = context.client("events")
    for event_name, event in (resource.properties.get("Events") or {}).items():
        if event.get("Type") not in EVENTBRIDGE_EVENT_TYPES:
            continue
        where = f"{resource.logical_id}.Events.{event_name}"
        props = context.resolve(event.get("Properties") or {}, where)
        for name in _NOT_EMULATED_RULE_PROPERTIES:
            if name in props:
                context.warn(f"{where}: {name} is not emulated locally (delivery is attempted once)")
        rule_name = str(
            props.get("RuleName") or f"{context.stack_name}-{resource.logical_id}-{event_name}"[:64]
        )
        bus = str(props.get("EventBusName") or "default")
        events.put_rule(
            Name=rule_name,
            EventBusName=bus,
            EventPattern=json.dumps(props["Pattern"]),
            State=props.get("State", "ENABLED"),
        )
        target: dict[str, Any] = {
            "Id": str((props.get("Target") or {}).get("Id") or f"{resource.logical_id}Target")
        }
        target["Arn"] = target_arn
        target.update(_pick(props, "Input", "InputPath", "InputTransformer"))
        events.put_targets(Rule=rule_name, EventBusName=bus, Targets=[target])


class EventBus(ResourceType):
    types = ("AWS::Events::EventBus",)
    emulated = frozenset({"Name", "Tags", "Description"})
    no_local_meaning = frozenset({"Policy", "KmsKeyIdentifier", "DeadLetterConfig", "EventSourceName"})

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props["Name"])
        events = context.client("events")
        try:
            arn = events.describe_event_bus(Name=name)["Arn"]
        except ClientError:
            arn = events.create_event_bus(Name=name)["EventBusArn"]
        return Physical(ref=name, attributes={"Arn": arn, "Name": name})


# ---------------------------------------------------------------------- Step Functions
class StateMachine(ResourceType):
    """Both ``AWS::Serverless::StateMachine`` and ``AWS::StepFunctions::StateMachine``.

    The definition (inline, or a local JSON/YAML file) gets its ``${Substitutions}`` replaced as
    CloudFormation does, then is created with moto, which can execute it when the backend's
    ``stepfunctions.execute_state_machine`` setting is on (the local backend turns it on).
    """

    types = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
    emulated = frozenset(
        {
            "Name",
            "StateMachineName",
            "Definition",
            "DefinitionUri",
            "DefinitionString",
            "DefinitionSubstitutions",
            "Type",
            "StateMachineType",
            "Tags",
            "Events",
        }
    )
    no_local_meaning = frozenset(
        {"Role", "RoleArn", "Policies", "RolePath", "PermissionsBoundary", "Logging", "LoggingConfiguration"}
        | {"Tracing", "TracingConfiguration", "AutoPublishAlias", "DeploymentPreference", "PropagateTags"}
    )

    def check_properties(self, resource: Resource, context: DeployContext) -> None:
        super().check_properties(resource, context)
        for name, event in (resource.properties.get("Events") or {}).items():
            if event.get("Type") not in EVENTBRIDGE_EVENT_TYPES:
                context.warn(
                    f"{resource.logical_id}: event {name} (Type {event.get('Type')}) is not emulated locally"
                )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = {k: v for k, v in resource.properties.items() if k != "Events"}
        props = context.resolve(props, resource.logical_id)
        name = str(props.get("Name") or props.get("StateMachineName") or context.default_name(resource, 80))
        definition = self._definition(resource, props, context.template.base_dir)
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + str(key) + "}", str(value))
        machine_type = str(props.get("Type") or props.get("StateMachineType") or "STANDARD")
        sfn = context.client("stepfunctions")
        arn = None
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == name:
                    arn = machine["stateMachineArn"]
        role = context.arn("iam", f"role/{name}-role", region="")
        if arn is None:
            arn = sfn.create_state_machine(name=name, definition=definition, roleArn=role, type=machine_type)[
                "stateMachineArn"
            ]
        else:
            sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role)
        create_event_source_rules(resource, context, arn)
        return Physical(ref=arn, attributes={"Arn": arn, "Name": name})

    @staticmethod
    def _definition(resource: Resource, props: dict[str, Any], base_dir: Path) -> str:
        if "DefinitionString" in props:
            return str(props["DefinitionString"])
        if "Definition" in props:
            return json.dumps(props["Definition"])
        uri = props.get("DefinitionUri")
        if isinstance(uri, str):
            path = base_dir / uri
            document = load_yaml(path)
            return json.dumps(document)
        raise UnsupportedResourceError(
            f"{resource.logical_id}: a definition in S3 (DefinitionUri/DefinitionS3Location) is not supported locally"
        )


# ---------------------------------------------------------------------- no-op types
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


AWS_RESOURCE_TYPES: tuple[ResourceType, ...] = (
    DynamoDbTable(),
    SimpleTable(),
    S3Bucket(),
    CognitoUserPool(),
    CognitoUserPoolClient(),
    EventsRule(),
    EventBus(),
    StateMachine(),
    SqsQueue(),
)
NO_OP_RESOURCE_TYPES: tuple[ResourceType, ...] = (NoOpResource(),)
