"""Every AWS call a handler makes, recorded in-process, and what IAM must allow for it.

``Recorder.invocation(function)`` patches botocore while one function's handler runs and records
each call under that function's name (a context variable, so a call is attributed to the function
whose invocation made it, imports and cold start included):

* ``BaseClient._make_api_call``: every API call, with its service, operation and parameters as the
  code passed them (before any AWS answer: a call that fails a condition was still authorized).
* presigning, which sends nothing but hands the function's permission to whoever holds the URL or
  form: ``generate_presigned_url`` counts as a call of its ``ClientMethod``'s operation (seen where
  botocore emits its parameters, ``BaseClient._emit_api_params``), and ``generate_presigned_post``
  as an S3 PutObject of its bucket and key (seen at ``S3PostPresigner.generate_presigned_post``).

``iam_requests`` turns a call into the (action, resource) pairs IAM authorizes, and ``compare``
checks them against the (action, resource pattern) pairs of a policy's Allow statements.
"""

from __future__ import annotations

import copy
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from unittest import mock

import botocore.signers
from botocore.client import BaseClient
from botocore.signers import S3PostPresigner

_invoked: ContextVar[str | None] = ContextVar("invoked_function", default=None)

#: botocore service name -> IAM action prefix, for the services this project calls
IAM_PREFIX = {
    "dynamodb": "dynamodb",
    "s3": "s3",
    "events": "events",
    "sqs": "sqs",
    "lambda": "lambda",
    "stepfunctions": "states",
}
#: DynamoDB: a transaction is authorized item by item, as the single-item action on that item's table
_TRANSACT_WRITE_ACTIONS = {
    "ConditionCheck": "ConditionCheckItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
}
_TRANSACT_GET_ACTIONS = {"Get": "GetItem"}
#: S3 operations whose IAM action has another name (or another resource than the operation's)
_S3_BUCKET_ACTIONS = {"ListObjectsV2": "ListBucket", "ListObjects": "ListBucket", "HeadBucket": "ListBucket"}
_S3_OBJECT_ACTIONS = {"HeadObject": "GetObject"}


class UnmappedCall(ValueError):
    """A call this module cannot translate into IAM: add its mapping rather than guess."""


@dataclass(frozen=True)
class Call:
    """One AWS call made by a function's code (``presigned``: a URL or form, not a request)."""

    function: str | None
    service: str
    operation: str
    params: Mapping[str, Any]
    region: str
    partition: str = "aws"
    presigned: bool = False

    def __str__(self) -> str:
        how = " (presigned)" if self.presigned else ""
        return f"{self.service}.{self.operation}{how}"


@dataclass(frozen=True, order=True)
class Request:
    """One authorization IAM makes for a call: an action on a resource ARN."""

    action: str
    resource: str


@dataclass(frozen=True, order=True)
class Grant:
    """One (action, resource pattern) pair of an Allow statement; patterns use IAM's ``*`` and ``?``."""

    action: str
    resource: str


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)

    @contextmanager
    def invocation(self, function: str) -> Iterator[None]:
        """Record the calls made while ``function``'s handler runs (botocore is patched only then)."""
        # private botocore methods (its type stubs leave them out): every call and presign passes there
        make_api_call = getattr(BaseClient, "_make_api_call")  # noqa: B009
        emit_api_params = getattr(BaseClient, "_emit_api_params")  # noqa: B009
        presign_post = S3PostPresigner.generate_presigned_post
        presign_post_code = botocore.signers.generate_presigned_post.__code__

        # Threads that ran before the handler (another test's local cloud, its TTL sweep) are not
        # the function's; a thread the handler starts is, and is recorded (as off-stage: function None).
        elsewhere = {thread.ident for thread in threading.enumerate()} - {threading.get_ident()}

        def recording_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            if threading.get_ident() not in elsewhere:
                self.calls.append(_call(client, operation_name, api_params))
            return make_api_call(client, operation_name, api_params)

        def recording_presign(
            client: BaseClient, api_params: dict[str, Any], operation_model: Any, context: dict[str, Any]
        ) -> Any:
            # generate_presigned_post emits a CreateBucket model for its URL: its PutObject is
            # recorded below, with the key
            if context.get("is_presign_request") and sys._getframe(1).f_code is not presign_post_code:
                self.calls.append(_call(client, operation_model.name, api_params, presigned=True))
            return emit_api_params(client, api_params, operation_model, context)

        def recording_post(
            presigner: S3PostPresigner,
            request_dict: dict[str, Any],
            fields: dict[str, Any] | None = None,
            conditions: list[Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            bucket = next(c["bucket"] for c in conditions or [] if isinstance(c, dict) and "bucket" in c)
            region = str(getattr(presigner, "_request_signer")._region_name)  # noqa: B009
            params = {"Bucket": bucket, "Key": (fields or {})["key"]}
            self.calls.append(Call(_invoked.get(), "s3", "PutObject", params, region, presigned=True))
            return presign_post(presigner, request_dict, fields, conditions, **kwargs)

        token = _invoked.set(function)
        try:
            with (
                mock.patch.object(BaseClient, "_make_api_call", recording_call),
                mock.patch.object(BaseClient, "_emit_api_params", recording_presign),
                mock.patch.object(S3PostPresigner, "generate_presigned_post", recording_post),
            ):
                yield
        finally:
            _invoked.reset(token)

    def of(self, function: str | None) -> list[Call]:
        return [call for call in self.calls if call.function == function]


def _call(client: BaseClient, operation: str, params: Mapping[str, Any], *, presigned: bool = False) -> Call:
    meta = client.meta
    return Call(
        function=_invoked.get(),
        service=meta.service_model.service_name,
        operation=operation,
        params=copy.deepcopy(dict(params)),
        region=str(meta.region_name),
        partition=str(meta.partition),
        presigned=presigned,
    )


# ---------------------------------------------------------------------- calls -> IAM


def iam_requests(call: Call, account_id: str) -> list[Request]:
    """What IAM authorizes for ``call``: ``<prefix>:<Operation>`` on the resource it names, with the
    exceptions of each service (see the module's constants)."""
    prefix = IAM_PREFIX.get(call.service)
    if prefix is None:
        raise UnmappedCall(f"{call}: no IAM mapping for the service {call.service!r}")
    arn = _Arns(call.partition, call.region, account_id)
    params = call.params
    if call.service == "dynamodb":
        return _dynamodb(call, arn)
    if call.service == "s3":
        return _s3(call, arn)
    if call.service == "events" and call.operation == "PutEvents":
        buses = {entry.get("EventBusName") or "default" for entry in params["Entries"]}
        return [Request("events:PutEvents", arn.event_bus(bus)) for bus in sorted(buses)]
    if call.service == "sqs" and "QueueUrl" in params:
        return [Request(f"sqs:{call.operation}", arn.queue(params["QueueUrl"]))]
    if call.service == "lambda" and "FunctionName" in params:
        action = "InvokeFunction" if call.operation in ("Invoke", "InvokeAsync") else call.operation
        return [Request(f"lambda:{action}", arn.function(params["FunctionName"], params.get("Qualifier")))]
    if call.service == "stepfunctions" and "stateMachineArn" in params:
        return [Request(f"states:{call.operation}", params["stateMachineArn"])]
    raise UnmappedCall(f"{call}: no IAM mapping for this operation")


def _dynamodb(call: Call, arn: _Arns) -> list[Request]:
    params = call.params
    if call.operation in ("TransactWriteItems", "TransactGetItems"):
        actions = _TRANSACT_WRITE_ACTIONS if call.operation == "TransactWriteItems" else _TRANSACT_GET_ACTIONS
        requests = []
        for item in params["TransactItems"]:
            ((kind, request),) = item.items()
            requests.append(Request(f"dynamodb:{actions[kind]}", arn.table(request["TableName"])))
        return requests
    if call.operation in ("BatchWriteItem", "BatchGetItem"):
        return [Request(f"dynamodb:{call.operation}", arn.table(name)) for name in params["RequestItems"]]
    if "TableName" not in params:
        raise UnmappedCall(f"{call}: no table")
    resource = arn.table(params["TableName"])
    if params.get("IndexName"):  # an index is a resource of its own
        resource += f"/index/{params['IndexName']}"
    return [Request(f"dynamodb:{call.operation}", resource)]


def _s3(call: Call, arn: _Arns) -> list[Request]:
    params = call.params
    bucket = params["Bucket"]
    if call.operation == "DeleteObjects":
        keys = [entry["Key"] for entry in params["Delete"]["Objects"]]
        return [Request("s3:DeleteObject", arn.s3(bucket, key)) for key in keys]
    if call.operation in _S3_BUCKET_ACTIONS:
        return [Request(f"s3:{_S3_BUCKET_ACTIONS[call.operation]}", arn.s3(bucket))]
    action = f"s3:{_S3_OBJECT_ACTIONS.get(call.operation, call.operation)}"
    return [Request(action, arn.s3(bucket, params["Key"]) if "Key" in params else arn.s3(bucket))]


@dataclass(frozen=True)
class _Arns:
    partition: str
    region: str
    account_id: str

    def table(self, name: str) -> str:
        return name if name.startswith("arn:") else self._arn("dynamodb", f"table/{name}")

    def s3(self, bucket: str, key: str | None = None) -> str:
        return f"arn:{self.partition}:s3:::{bucket}" + ("" if key is None else f"/{key}")

    def event_bus(self, bus: str) -> str:
        return bus if bus.startswith("arn:") else self._arn("events", f"event-bus/{bus}")

    def queue(self, url: str) -> str:
        account, name = url.rstrip("/").split("/")[-2:]
        return f"arn:{self.partition}:sqs:{self.region}:{account}:{name}"

    def function(self, name: str, qualifier: str | None) -> str:
        base = name if name.startswith("arn:") else self._arn("lambda", f"function:{name}")
        return f"{base}:{qualifier}" if qualifier else base

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"


# ---------------------------------------------------------------------- policies


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allow_grants(statements: Iterable[Mapping[str, Any]]) -> set[Grant]:
    """The (action, resource pattern) pairs of resolved Allow statements. Anything that would make
    "allowed" depend on more than the action and resource (Deny, NotAction, NotResource,
    Condition) is refused: the comparison would then prove nothing."""
    grants: set[Grant] = set()
    for statement in statements:
        unsupported = {"NotAction", "NotResource", "Condition", "NotPrincipal"} & set(statement)
        if statement.get("Effect") != "Allow" or unsupported:
            raise ValueError(f"only plain Allow statements can be compared: {dict(statement)}")
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                grants.add(Grant(str(action), str(resource)))
    return grants


@cache
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` is any run of characters (``/`` and ``:`` included), ``?`` any one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def grants_request(grant: Grant, request: Request) -> bool:
    return bool(
        _pattern(grant.action, True).fullmatch(request.action)
        and _pattern(grant.resource, False).fullmatch(request.resource)
    )


def compare(requests: Iterable[Request], grants: Iterable[Grant]) -> tuple[set[Request], set[Grant]]:
    """(requests no grant allows, grants no request used)."""
    requests, grants = set(requests), set(grants)
    missing = {r for r in requests if not any(grants_request(g, r) for g in grants)}
    unused = {g for g in grants if not any(grants_request(g, r) for r in requests)}
    return missing, unused
