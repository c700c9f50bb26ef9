"""``AWS::Events::Rule`` and ``AWS::Events::EventBus``: rules and buses in the local backend, delivered
to their targets (SQS, Logs and buses by moto; Step Functions and Lambda by the local cloud)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from localcloud.resource_types import (
    DeployContext,
    Physical,
    ResourceType,
    pick,
)
from localcloud.template import Resource

__all__ = ["EventBus", "EventsRule"]


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
        arguments.update(pick(props, "ScheduleExpression", "Description"))
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
                deliverable.append(pick(target, "Id", "Arn", "Input", "InputPath", "InputTransformer"))
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


_NOT_EMULATED_RULE_PROPERTIES = ("DeadLetterConfig", "RetryPolicy")


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
