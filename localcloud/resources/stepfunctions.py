"""``AWS::StepFunctions::StateMachine``: a state machine in the local backend, executed for real."""

from __future__ import annotations

import json
from typing import Any

from localcloud.resource_types import DeployContext, Physical, ResourceType, UnsupportedResourceError
from localcloud.template import Resource

__all__ = ["StateMachine"]


class StateMachine(ResourceType):
    """The definition (``Definition``, or ``DefinitionString`` as the SAM transform writes it) gets
    its ``${Substitutions}`` replaced as CloudFormation does, then is created with moto, which
    executes it when the backend's ``stepfunctions.execute_state_machine`` setting is on (the local
    backend turns it on). Task states reach the template's functions through the local Lambda
    service (see ``moto_internals.install_local_integrations``).
    """

    types = ("AWS::StepFunctions::StateMachine",)
    emulated = frozenset(
        {
            "StateMachineName",
            "Definition",
            "DefinitionString",
            "DefinitionSubstitutions",
            "StateMachineType",
            "RoleArn",
            "Tags",
        }
    )
    no_local_meaning = frozenset({"LoggingConfiguration", "TracingConfiguration", "EncryptionConfiguration"})

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("StateMachineName") or context.default_name(resource, 80))
        definition = self._definition(resource, props)
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + str(key) + "}", str(value))
        machine_type = str(props.get("StateMachineType") or "STANDARD")
        sfn = context.client("stepfunctions")
        arn = None
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == name:
                    arn = machine["stateMachineArn"]
        role = str(props.get("RoleArn") or context.arn("iam", f"role/{name}-role", region=""))
        if arn is None:
            arn = sfn.create_state_machine(name=name, definition=definition, roleArn=role, type=machine_type)[
                "stateMachineArn"
            ]
        else:
            sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role)
        return Physical(ref=arn, attributes={"Arn": arn, "Name": name})

    @staticmethod
    def _definition(resource: Resource, props: dict[str, Any]) -> str:
        if "DefinitionString" in props:
            return str(props["DefinitionString"])
        if "Definition" in props:
            return json.dumps(props["Definition"])
        raise UnsupportedResourceError(
            f"{resource.logical_id}: a definition in S3 (DefinitionS3Location) is not supported locally"
        )
