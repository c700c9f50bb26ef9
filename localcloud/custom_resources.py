"""Custom resources (``Custom::*``, ``AWS::CloudFormation::CustomResource``), run for real at deploy time.

Why for real: a custom resource is code the template author wrote to do what CloudFormation
cannot (seed a table, register something); skipping it locally would leave the stack in a state
AWS never has. So the local deployment does what CloudFormation does: it invokes the function
that ``ServiceToken`` names with a ``Create`` request whose ``ResponseURL`` points at a small
endpoint of the local cloud (CloudFormation's is a pre-signed S3 URL), waits -- bounded -- for the
function's PUT there, and gives ``Ref`` its ``PhysicalResourceId`` and ``Fn::GetAtt`` its
``Data``. Property values arrive as strings, as CloudFormation sends them.

State, as CloudFormation keeps it between deployments: each successful answer is recorded in the
local backend, in the DynamoDB table ``localcloud-custom-resources`` (stack name, logical id), so it
is persisted with everything else under ``--persist`` -- and written after whatever the function
wrote, so a record never speaks of work that was lost.
The next deployment (a restart) sends nothing when the properties are unchanged, an ``Update``
(with ``OldResourceProperties``) when they changed, and a ``Delete`` of the old physical id when
the ``Update`` answered a new one. Without a record (a fresh backend) it is a ``Create`` again.
Not emulated: a ``Delete`` when a custom resource leaves the template; SNS service tokens.

A function that fails, answers FAILED, or does not answer within its timeout (plus the cold-start
allowance) is reported at start-up, naming the resource and the reason; the stack comes up
without it -- never a hang. ``localcloud invoke`` deploys without running anything: it reuses
the recorded answer when there is one.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from localcloud.functions import INIT_TIMEOUT_SECONDS, FunctionRuntime, FunctionSpec, InvocationResult
from localcloud.resource_types import DeployContext, Physical, ResourceType, UnsupportedResourceError
from localcloud.servers import ServerThread, bind
from localcloud.template import Resource

__all__ = [
    "CUSTOM_RESOURCE_TYPES",
    "CustomResourceError",
    "CustomResourceRunner",
    "cloudformation_strings",
    "is_custom_resource",
    "one_off_invoker",
]

RESPONSE_PATH = "/cloudformation-response/"
#: CloudFormation refuses answers over 4 KB
MAX_ANSWER_BYTES = 4096
#: after the function returned: how long an answer sent by something it started may still take
ANSWER_GRACE_SECONDS = 2.0
#: beyond the function's own timeout and cold start
EXTRA_WAIT_SECONDS = 5.0
#: the local cloud's record of custom resources, one item per (stack, logical id)
RECORDS_TABLE = "localcloud-custom-resources"

Invoke = Callable[[FunctionSpec, dict[str, Any]], InvocationResult]


def is_custom_resource(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"


def cloudformation_strings(value: Any) -> Any:
    """Property values as a custom resource receives them: every scalar a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {str(key): cloudformation_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [cloudformation_strings(item) for item in value]
    return value


class CustomResourceError(RuntimeError):
    """The custom resource did not succeed; the message is the reason."""


@dataclass(frozen=True)
class Answer:
    physical_id: str
    data: dict[str, Any] = field(default_factory=dict)


def one_off_invoker(aws_endpoint_url: str, region: str, console: Callable[[str], None]) -> Invoke:
    """Invokes a function in a worker of its own, stopped afterwards.

    Deploy-time invocations come before the serving runtime exists (it needs the deployed
    functions) and, as on AWS, get an execution environment of their own.
    """

    def invoke(spec: FunctionSpec, event: dict[str, Any]) -> InvocationResult:
        runtime = FunctionRuntime({spec.logical_id: spec}, aws_endpoint_url, region, console, max_workers=1)
        try:
            return runtime.invoke(spec.logical_id, event)
        finally:
            runtime.close()

    return invoke


class CustomResourceRunner:
    """Sends custom resource requests and receives their answers at a local ResponseURL."""

    def __init__(
        self, invoke: Invoke, console: Callable[[str], None] = print, host: str = "127.0.0.1"
    ) -> None:
        self._invoke = invoke
        self._console = console
        self._host = host
        self._server: ServerThread | None = None
        self._condition = threading.Condition()
        #: request id -> the answer's bytes (None until it arrives)
        self._answers: dict[str, bytes | None] = {}

    def request(self, spec: FunctionSpec, event: dict[str, Any]) -> Answer:
        """Invokes ``spec`` with ``event`` (ResponseURL and RequestId added); waits for the answer."""
        request_id = str(uuid.uuid4())
        event = {**event, "RequestId": request_id, "ResponseURL": self._response_url(request_id)}
        with self._condition:
            self._answers[request_id] = None
        outcome: list[InvocationResult] = []
        finished = threading.Event()

        def run() -> None:
            try:
                outcome.append(self._invoke(spec, event))
            finally:
                finished.set()
                with self._condition:
                    self._condition.notify_all()

        started = time.monotonic()
        threading.Thread(target=run, name=f"custom-resource-{request_id[:8]}", daemon=True).start()
        wait_seconds = spec.timeout_seconds + INIT_TIMEOUT_SECONDS + EXTRA_WAIT_SECONDS
        body = self._wait_for(request_id, started + wait_seconds, finished)
        label = f"{event['LogicalResourceId']}: {event['RequestType']}"
        if body is None:
            if outcome and not outcome[0].ok:
                error = outcome[0].error or {}
                reason = f"the function failed without answering: {error.get('errorType')}: {error.get('errorMessage')}"
            elif finished.is_set():
                reason = "the function returned without answering at the ResponseURL"
            else:
                reason = f"no answer at the ResponseURL within {wait_seconds:.0f} s"
            raise CustomResourceError(reason)
        answer = _parse_answer(body, event)
        self._console(f"localcloud: custom resource {label} -> SUCCESS ({answer.physical_id})")
        return answer

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    # ------------------------------------------------------------------ internals
    def _response_url(self, request_id: str) -> str:
        if self._server is None:
            self._server = ServerThread("cfn-responses", bind(self._host, 0, "--host"), self._app).start()
        return f"{self._server.url}{RESPONSE_PATH}{request_id}"

    def _wait_for(self, request_id: str, deadline: float, finished: threading.Event) -> bytes | None:
        grace_deadline: float | None = None
        with self._condition:
            try:
                while (body := self._answers.get(request_id)) is None:
                    now = time.monotonic()
                    if finished.is_set() and grace_deadline is None:
                        grace_deadline = now + ANSWER_GRACE_SECONDS
                    limit = min(deadline, grace_deadline) if grace_deadline is not None else deadline
                    if now >= limit:
                        return None
                    self._condition.wait(limit - now)
                return body
            finally:
                self._answers.pop(request_id, None)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The ResponseURL: a PUT of the answer, once per request id (S3 answers 200 empty)."""
        path = str(environ.get("PATH_INFO", ""))
        request_id = path[len(RESPONSE_PATH) :] if path.startswith(RESPONSE_PATH) else ""
        if environ.get("REQUEST_METHOD") != "PUT":
            start_response("405 Method Not Allowed", [("Allow", "PUT"), ("Content-Length", "0")])
            return [b""]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= 64 * MAX_ANSWER_BYTES:
            start_response("413 Request Entity Too Large", [("Content-Length", "0")])
            return [b""]
        body = environ["wsgi.input"].read(length) if length else b""
        with self._condition:
            if request_id not in self._answers or self._answers[request_id] is not None:
                accepted = False
            else:
                self._answers[request_id] = body
                accepted = True
                self._condition.notify_all()
        start_response("200 OK" if accepted else "403 Forbidden", [("Content-Length", "0")])
        return [b""]


def _parse_answer(body: bytes, event: dict[str, Any]) -> Answer:
    """Checks the answer as CloudFormation does; raises :class:`CustomResourceError` with the reason."""
    if len(body) > MAX_ANSWER_BYTES:
        raise CustomResourceError(
            f"the answer is {len(body)} bytes; CloudFormation accepts {MAX_ANSWER_BYTES}"
        )
    try:
        answer = json.loads(body)
    except ValueError:
        raise CustomResourceError("the answer at the ResponseURL is not JSON") from None
    if not isinstance(answer, dict):
        raise CustomResourceError("the answer at the ResponseURL is not a JSON object")
    for key in ("RequestId", "LogicalResourceId", "StackId"):
        if answer.get(key) != event[key]:
            raise CustomResourceError(f"the answer's {key} is {answer.get(key)!r}, not {event[key]!r}")
    status = answer.get("Status")
    if status == "FAILED":
        raise CustomResourceError(f"FAILED: {answer.get('Reason') or 'no reason given'}")
    if status != "SUCCESS":
        raise CustomResourceError(f"the answer's Status is {status!r}, not SUCCESS or FAILED")
    physical_id = answer.get("PhysicalResourceId")
    if not isinstance(physical_id, str) or not physical_id:
        raise CustomResourceError("the answer has no PhysicalResourceId")
    data = answer.get("Data") or {}
    if not isinstance(data, dict):
        raise CustomResourceError("the answer's Data is not an object")
    return Answer(physical_id, data)


class _Records:
    """What each custom resource last answered, in the local backend (see :data:`RECORDS_TABLE`)."""

    def __init__(self, dynamodb: Any, stack_name: str) -> None:
        self._dynamodb = dynamodb
        self._stack_name = stack_name

    def _key(self, logical_id: str) -> dict[str, Any]:
        return {"stack": {"S": self._stack_name}, "logicalId": {"S": logical_id}}

    def get(self, logical_id: str) -> dict[str, Any] | None:
        try:
            item = self._dynamodb.get_item(TableName=RECORDS_TABLE, Key=self._key(logical_id)).get("Item")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None  # no custom resource has ever run against this backend
            raise
        record = json.loads(item["record"]["S"]) if item else None
        return record if isinstance(record, dict) else None

    def put(self, logical_id: str, record: dict[str, Any]) -> None:
        item = {**self._key(logical_id), "record": {"S": json.dumps(record, sort_keys=True)}}
        try:
            self._dynamodb.put_item(TableName=RECORDS_TABLE, Item=item)
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        try:
            self._dynamodb.create_table(
                TableName=RECORDS_TABLE,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": "stack", "AttributeType": "S"},
                    {"AttributeName": "logicalId", "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": "stack", "KeyType": "HASH"},
                    {"AttributeName": "logicalId", "KeyType": "RANGE"},
                ],
            )
        except ClientError as race:  # a parallel deployment created it just now
            if race.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
        self._dynamodb.put_item(TableName=RECORDS_TABLE, Item=item)


def _physical(record: dict[str, Any]) -> Physical:
    return Physical(ref=str(record["physicalResourceId"]), attributes=dict(record.get("data") or {}))


class CustomResource(ResourceType):
    """Every ``Custom::<Name>`` type and ``AWS::CloudFormation::CustomResource``."""

    types = ("AWS::CloudFormation::CustomResource",)

    def check_properties(self, resource: Resource, context: DeployContext) -> None:
        """Every property goes to the function: none is unknown."""

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        logical_id = resource.logical_id
        properties = cloudformation_strings(context.resolve(resource.properties, logical_id))
        token = properties.get("ServiceToken")
        function = context.function_for_arn(token)
        if function is None:
            raise UnsupportedResourceError(
                f"ServiceToken {token!r} is not a function of this template that runs locally "
                "(SNS service tokens are not emulated)"
            )
        spec = context.deployed.functions[function]
        records = _Records(context.client("dynamodb"), context.stack_name)
        record = records.get(logical_id)
        runner = context.custom_resources
        if record is not None and (runner is None or record.get("properties") == properties):
            return _physical(record)  # unchanged since the last deployment: CloudFormation sends nothing
        if runner is None:
            context.warn(
                f"{logical_id}: custom resource not run here (`localcloud dev` runs custom resources)"
            )
            return Physical(ref=context.default_name(resource))
        event: dict[str, Any] = {
            "RequestType": "Create",
            "ServiceToken": token,
            "StackId": str(context.template.pseudo["AWS::StackId"]),
            "LogicalResourceId": logical_id,
            "ResourceType": resource.type,
            "ResourceProperties": properties,
        }
        if record is not None:
            event.update(
                RequestType="Update",
                PhysicalResourceId=record["physicalResourceId"],
                OldResourceProperties=record.get("properties") or {},
            )
        try:
            answer = runner.request(spec, event)
        except CustomResourceError as error:
            context.deployed.failures.append(
                f"{logical_id} ({resource.type}): {event['RequestType']} failed: {error}"
            )
            return _physical(record) if record is not None else Physical(ref=context.default_name(resource))
        if record is not None and answer.physical_id != record["physicalResourceId"]:
            self._delete_replaced(runner, spec, event, record, context)
        new_record = {"physicalResourceId": answer.physical_id, "properties": properties, "data": answer.data}
        records.put(logical_id, new_record)
        return Physical(ref=answer.physical_id, attributes=dict(answer.data))

    @staticmethod
    def _delete_replaced(
        runner: CustomResourceRunner,
        spec: FunctionSpec,
        update: dict[str, Any],
        record: dict[str, Any],
        context: DeployContext,
    ) -> None:
        """CloudFormation's clean-up after an Update that answered a new physical id."""
        event = {
            key: value
            for key, value in update.items()
            if key not in ("OldResourceProperties", "ResourceProperties", "RequestType")
        }
        event.update(RequestType="Delete", ResourceProperties=record.get("properties") or {})
        try:
            runner.request(spec, event)
        except CustomResourceError as error:
            context.deployed.failures.append(
                f"{update['LogicalResourceId']}: Delete of the replaced {record['physicalResourceId']} failed: {error}"
            )


CUSTOM_RESOURCE_TYPES: tuple[ResourceType, ...] = (CustomResource(),)
