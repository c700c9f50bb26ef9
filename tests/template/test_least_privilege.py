"""Least privilege, proven: each function's policy grants exactly the AWS calls its code makes.

Every function of template.yaml (``DeployEdge=true``, so the edge functions too) is invoked
in-process on its sample events (events/; the seed's CloudFormation requests are built from the
template, as no sample event exists for them), inside moto with the template's data stores and the
data each case needs, each function in a container of its own (its modules imported by its first
invocation, with only its own environment), while ``tests.iam_calls.Recorder`` records every
botocore call its code makes, cold start and Powertools' idempotency calls included; a presigned URL counts as a call of its operation and a
presigned POST form as an S3 PutObject of its key, since either carries the function's permission.
Each call becomes IAM (action, resource ARN) pairs (``tests.iam_calls.iam_requests``), which are
compared with the function's role in the SAM transform's output, its intrinsics resolved against
the deployed stack's physical names:

* every recorded pair must be allowed by an Allow statement (IAM's ``*``/``?`` matching), and
* every (action, resource pattern) an Allow statement grants must have been used by some call.

Function policies name actions exactly (no wildcard action), and a resource wildcard only ends an
S3 key prefix (``${UploadsBucket.Arn}/uploads/*``), so "used" means used. Left out of the
comparison, and only these: the managed AWSLambdaBasicExecutionRole and AWSXrayWriteOnlyAccess
policies (logs and traces, which Lambda itself writes), and the ``DeadLetterQueuePolicy`` statement
SAM adds for a ``DeadLetterQueue`` (Lambda's service sends there, not the code: checked to be only
sqs:SendMessage on that queue). The state machine's role is checked against the Task resources of
its definition (lambda:InvokeFunction on each), leaving out the log-delivery statement that its
Logging configuration needs on ``*``.

What this cannot see: a call on a code path no case below reaches. Each case says what it reaches;
``test_every_function_is_exercised`` makes sure no function is left without calls.
"""

from __future__ import annotations

import copy
import importlib
import io
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import boto3
import pytest
from moto import mock_aws
from PIL import Image

from localcloud import ACCOUNT_ID
from localcloud.custom_resources import cloudformation_strings
from localcloud.resource_types import DeployContext
from localcloud.stack import REGISTRY, LocalStack, deploy_in_memory, in_process_clients
from tests.iam_calls import Call, Grant, Recorder, Request, allow_grants, as_list, compare, iam_requests
from tests.support import (
    DATA_STORE_TYPES,
    RESOURCES,
    TEMPLATE_PATH,
    LambdaContext,
    add_pet,
    body_of,
    create_data_stores,
    invoker,
    load_event,
    stack,
)
from tests.template.test_security_posture import ACTIONS_WITHOUT_RESOURCES

FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
#: managed policies left out of the comparison: CloudWatch Logs and X-Ray, written for the code
MONITORING_POLICIES = frozenset({"service-role/AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"})
#: the one wildcard a function's policy may hold: the end of a key prefix in a named bucket
KEY_PREFIX = re.compile(r"arn:aws:s3:::[a-z0-9.-]+/[^*?]*\*")
STATE_MACHINE = "ImagePipelineStateMachine"
PET = "rex"  # the pet the sample events name
PHOTO = "3f2b8c1d9e7a4b6c8d0e1f2a3b4c5d6e"  # the photo the events/photos-* files name
COMMENT = "5d9c7e2a41b84f3e9a6c0b1d2e3f4a5b"  # the comment events/comments-delete.json names
AUTHOR = "7f1c2a3e-1111-4b2c-9d0e-5a6b7c8d9e0f"  # the signed-in user of the sample events
BEFORE_THE_PET_WAS_DELETED = "2026-11-22T04:30:00.000Z"  # the PetDeleted samples say 05:00 and 05:12


@cache
def deployed() -> LocalStack:
    """template.yaml with the edge (``DeployEdge=true``, us-east-1), deployed into an in-process
    moto as the local cloud deploys it: the transformed template and the physical names."""
    with mock_aws():
        return deploy_in_memory(TEMPLATE_PATH, {"DeployEdge": "true"})


# ---------------------------------------------------------------------- running the cases

Invoke = Callable[[str, dict[str, Any]], Any]


class Containers:
    """One Lambda container per function: the modules of its code folder are its own, imported on
    its first invocation (its cold start, recorded like any other call) and kept for the next; the
    process's own modules are put back afterwards (``restore``)."""

    def __init__(self) -> None:
        self.modules: dict[str, dict[str, ModuleType]] = {}
        self.outside: dict[str, ModuleType] = {}

    @contextmanager
    def of(self, function: str, code_dir: Path) -> Iterator[None]:
        outside = self._take(code_dir)
        for module_name, module in outside.items():
            self.outside.setdefault(module_name, module)
        sys.modules.update(self.modules.get(function, {}))
        try:
            yield
        finally:
            self.modules[function] = self._take(code_dir)

    def restore(self) -> None:
        for code_dir in {Path(spec.code_dir) for spec in deployed().functions.values()}:
            self._take(code_dir)
        sys.modules.update(self.outside)

    @staticmethod
    def _take(code_dir: Path) -> dict[str, ModuleType]:
        """Removes the modules of ``code_dir`` from ``sys.modules`` and returns them."""
        folder = f"{code_dir.resolve()}{os.sep}"
        taken = {
            module_name: module
            for module_name, module in list(sys.modules.items())
            if str(getattr(module, "__file__", None) or "").startswith(folder)
        }
        for module_name in taken:
            del sys.modules[module_name]
        return taken


def invoking(recorder: Recorder, containers: Containers, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invokes a function's handler as ``tests.support.invoker`` does (the edge functions, absent
    from ``stack()``, from the edge deployment), in its own container with only its own environment
    variables, recording its calls under its name."""
    invoke = invoker(monkeypatch)
    specs = deployed().functions
    variables = {name for spec in specs.values() for name in spec.environment}

    def call(function: str, event: dict[str, Any]) -> Any:
        spec = specs[function]
        for variable in variables - set(spec.environment):  # another function's, not this one's
            monkeypatch.delenv(variable, raising=False)
        with containers.of(function, Path(spec.code_dir)), recorder.invocation(function):
            if function in stack().functions:
                return invoke(function, event)
            for variable, value in spec.environment.items():
                monkeypatch.setenv(variable, value)
            module, handler = spec.handler.rsplit(".", 1)
            return getattr(importlib.import_module(module), handler)(copy.deepcopy(event), LambdaContext())

    return call


def create_edge_data_stores() -> None:
    """The data stores only the edge deployment has (the version mapping table), as
    ``create_data_stores`` makes the others."""
    edge = deployed()
    context = DeployContext(
        template=edge.template,
        region=edge.region,
        account_id=ACCOUNT_ID,
        stack_name=edge.stack_name,
        client=in_process_clients(edge.region),
        resolve=edge.resolver().resolve,
    )
    for resource in edge.template.of_type(*DATA_STORE_TYPES):
        if resource.logical_id not in stack().physical:
            REGISTRY[resource.type].deploy(resource, context)


def status(response: dict[str, Any], expected: int) -> dict[str, Any]:
    assert response["statusCode"] == expected, response
    return response


def name(logical_id: str) -> str:
    return str(deployed().physical[logical_id].ref)


def jpeg(size: tuple[int, int] = (1600, 1200)) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def put_photo_record(photo_status: str, renditions: bool) -> None:
    item: dict[str, Any] = {
        "petId": {"S": PET},
        "photoId": {"S": PHOTO},
        "status": {"S": photo_status},
        "contentType": {"S": "image/jpeg"},
        "createdAt": {"S": BEFORE_THE_PET_WAS_DELETED},
    }
    if photo_status == "PENDING":
        item["expiresAt"] = {"N": "4102444800"}  # 2100: never expired while the test runs
    if renditions:
        item["renditions"] = {
            "L": [
                {
                    "M": {
                        "key": {"S": f"photos/{PET}/{PHOTO}/{width}.jpg"},
                        "width": {"N": str(width)},
                        "height": {"N": str(width * 3 // 4)},
                        "contentType": {"S": "image/jpeg"},
                    }
                }
                for width in (1024, 256)
            ]
        }
        item.update(width={"N": "2048"}, height={"N": "1536"})
    boto3.client("dynamodb").put_item(TableName=name("PhotosTable"), Item=item)


def put_comment(comment_id: str, created_at: str) -> None:
    comment = {
        "pageId": PET,
        "commentId": comment_id,
        "message": "Good dog",
        "authorId": AUTHOR,
        "authorName": "Ada L.",
        "createdAt": created_at,
        "sortKey": f"{created_at}#{comment_id}",
    }
    boto3.client("dynamodb").put_item(
        TableName=name("CommentsTable"), Item={k: {"S": v} for k, v in comment.items()}
    )


def catalogue(invoke: Invoke, function: str, noun: str) -> None:
    """Pets and foods: a list (Scan), a miss and a hit (GetItem), a create, a stale replace and an
    invalid one (UpdateItem, refused or not sent), and a delete that succeeds (DeleteItem; for
    pets, then PutEvents of PetDeleted)."""
    status(invoke(function, load_event(f"{noun}-list")), 200)
    status(invoke(function, load_event(f"{noun}-get-not-found")), 404)
    status(invoke(function, load_event(f"{noun}-put")), 201)
    status(invoke(function, load_event(f"{noun}-get")), 200)
    if noun == "pets":
        status(invoke(function, load_event("pets-put-stale-version")), 412)
    status(invoke(function, load_event(f"{noun}-put-invalid")), 400)
    status(invoke(function, load_event(f"{noun}-delete")), 204)


def profiles(invoke: Invoke) -> None:
    status(invoke("ProfilesFunction", load_event("profiles-get")), 404)
    status(invoke("ProfilesFunction", load_event("profiles-put")), 200)
    status(invoke("ProfilesFunction", load_event("profiles-get")), 200)


def comments(invoke: Invoke) -> None:
    """Posting with an Idempotency-Key: for a missing pet (Powertools deletes its record), then a
    success (its record completed), then the same key again (the stored answer); posting without
    one; listing; deleting the author's own comment; and the PetDeleted cleanup of a comment."""
    post = load_event("comments-post")
    assert post["headers"]["idempotency-key"]
    status(invoke("CommentsFunction", post), 404)  # no pet yet
    add_pet(PET)
    created = body_of(status(invoke("CommentsFunction", post), 201))
    assert body_of(status(invoke("CommentsFunction", post), 201)) == created  # replayed
    without_key = copy.deepcopy(post)
    del without_key["headers"]["idempotency-key"]
    assert body_of(status(invoke("CommentsFunction", without_key), 201))["commentId"] != created["commentId"]
    status(invoke("CommentsFunction", load_event("comments-post-invalid")), 400)
    status(invoke("CommentsFunction", load_event("comments-list")), 200)
    put_comment(COMMENT, BEFORE_THE_PET_WAS_DELETED)
    status(invoke("CommentsFunction", load_event("comments-delete")), 204)

    put_comment("0" * 32, BEFORE_THE_PET_WAS_DELETED)
    cleaned = invoke("CommentsCleanupFunction", load_event("comments-pet-deleted"))
    assert cleaned["deletedComments"] >= 1, cleaned


def photos(invoke: Invoke) -> None:
    """The API (a form, an empty list, a list with renditions, a delete), every pipeline step on
    the sample photo, and the PetDeleted cleanup of a published photo."""
    api = "PhotosFunction"
    status(invoke(api, load_event("photos-list")), 200)
    form = body_of(status(invoke(api, load_event("photos-request-upload")), 201))
    assert form["upload"]["fields"]["key"].startswith(f"uploads/{PET}/")
    status(invoke(api, load_event("photos-request-upload-invalid")), 400)

    put_photo_record("PENDING", renditions=False)
    s3 = boto3.client("s3")
    s3.put_object(
        Bucket=name("UploadsBucket"), Key=f"uploads/{PET}/{PHOTO}", Body=jpeg(), ContentType="image/jpeg"
    )
    validated = invoke("ValidatePhotoFunction", load_event("photos-validate-input"))
    assert validated == invoke("ValidatePhotoFunction", load_event("photos-object-created"))
    resized = invoke("ResizePhotoFunction", load_event("photos-resize-input"))
    assert [r["key"] for r in resized["renditions"]] == [
        r["key"] for r in load_event("photos-publish-input")["renditions"]
    ]
    assert invoke("PublishPhotoFunction", load_event("photos-publish-input"))["status"] == "READY"
    listed = body_of(status(invoke(api, load_event("photos-list")), 200))["items"]
    (published,) = [photo for photo in listed if photo["photoId"] == PHOTO]
    assert len(published["renditions"]) == 2  # each with a presigned GET URL
    status(invoke(api, load_event("photos-delete")), 204)

    put_photo_record("PENDING", renditions=False)
    assert invoke("RecordPhotoFailureFunction", load_event("photos-record-failure-input"))["recorded"] is True

    put_photo_record("READY", renditions=True)
    cleaned = invoke("PhotosCleanupFunction", load_event("photos-pet-deleted"))
    assert cleaned["photosDeleted"] >= 1, cleaned


class _Answers(BaseHTTPRequestHandler):
    """CloudFormation's ResponseURL: takes the custom resource's answer."""

    answers: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        self.answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def response_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cfn-response"
    server.shutdown()
    server.server_close()


def edge(invoke: Invoke, response_url: str) -> None:
    """The seed's Create (PutItem of each row), every edge sample event in a fresh container (one
    Scan of the rows the seed wrote), and the seed's Delete (DeleteItem of each row). No sample
    event exists for the seed: its requests are built here as CloudFormation sends them, from the
    template's ``VersionMappingSeed`` properties."""
    resource = deployed().template.resources["VersionMappingSeed"]
    request = {
        "RequestType": "Create",
        "ResponseURL": response_url,
        "StackId": str(deployed().template.pseudo["AWS::StackId"]),
        "RequestId": "5f0e9c1a-0000-4000-8000-000000000001",
        "ResourceType": resource.type,
        "LogicalResourceId": resource.logical_id,
        "ResourceProperties": cloudformation_strings(deployed().resolver().resolve(resource.properties)),
    }
    invoke("VersionMappingSeedFunction", request)
    assert _Answers.answers[-1]["Status"] == "SUCCESS", _Answers.answers[-1]
    for sample in ("edge-v1", "edge-v2", "edge-apiver-header", "edge-missing-header", "edge-unknown-version"):
        invoke("EdgeVersioningFunction", load_event(sample))
    physical_id = _Answers.answers[-1]["PhysicalResourceId"]
    invoke(
        "VersionMappingSeedFunction", {**request, "RequestType": "Delete", "PhysicalResourceId": physical_id}
    )
    assert _Answers.answers[-1]["Status"] == "SUCCESS", _Answers.answers[-1]


@pytest.fixture(scope="module")
def recorded(response_url: str) -> Recorder:
    """Every case above, once, in one moto with the template's tables, buckets and bus."""
    recorder = Recorder()
    stack(), deployed()  # each deploys in a moto of its own: not inside the one below
    with mock_aws(), pytest.MonkeyPatch.context() as monkeypatch:
        create_data_stores()
        create_edge_data_stores()
        containers = Containers()
        invoke = invoking(recorder, containers, monkeypatch)
        try:
            catalogue(invoke, "PetsFunction", "pets")
            catalogue(invoke, "FoodsFunction", "foods")
            profiles(invoke)
            comments(invoke)
            photos(invoke)
            edge(invoke, response_url)
        finally:
            containers.restore()
    return recorder


# ---------------------------------------------------------------------- the policies


def role_statements(role_id: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The role's inline statements (resolved) and its managed policy ARNs, from the transformed
    template."""
    stack_ = deployed()
    role = stack_.template.document["Resources"][role_id]
    assert role["Type"] == "AWS::IAM::Role", role_id
    resolver = stack_.resolver()
    statements: list[dict[str, Any]] = []
    for policy in role["Properties"].get("Policies", []):
        document = resolver.resolve(policy["PolicyDocument"], role_id)
        statements += [dict(s, _policy=policy["PolicyName"]) for s in as_list(document["Statement"])]
    return statements, [str(arn) for arn in resolver.resolve(role["Properties"].get("ManagedPolicyArns", []))]


def function_grants(function: str) -> set[Grant]:
    """The function's Allow grants, without the monitoring policies and SAM's dead-letter statement."""
    role = deployed().template.document["Resources"][function]["Properties"]["Role"]
    role_id, attribute = role["Fn::GetAtt"]
    assert attribute == "Arn", role
    statements, managed = role_statements(role_id)
    unexpected = {arn for arn in managed if arn.split(":policy/", 1)[-1] not in MONITORING_POLICIES}
    assert not unexpected, f"{function}: managed policies cannot be compared: {unexpected}"
    dead_letters = deployed().functions[function].dead_letter_arn
    kept = []
    for statement in statements:
        if statement.pop("_policy") == "DeadLetterQueuePolicy":
            assert (as_list(statement["Action"]), statement["Resource"]) == (
                ["sqs:SendMessage"],
                dead_letters,
            )
            continue
        kept.append(statement)
    grants = allow_grants(kept)
    wildcards = sorted(g.action for g in grants if "*" in g.action or "?" in g.action)
    assert not wildcards, f"{function}: name each action, not {wildcards}"
    broad = sorted(g.resource for g in grants if "*" in g.resource and not KEY_PREFIX.fullmatch(g.resource))
    assert not broad, f"{function}: a wildcard only ends a key prefix of a named bucket, not {broad}"
    return grants


def readable(text: str) -> str:
    """Physical ARNs shown as the template writes them (``${PhotosTable.Arn}``)."""
    named = {
        str(value): f"${{{logical_id}.{attribute}}}"
        for logical_id, physical in deployed().physical.items()
        for attribute, value in physical.attributes.items()
        if attribute in ("Arn", "AliasArn") and isinstance(value, str)
    }
    for arn in sorted(named, key=len, reverse=True):
        text = text.replace(arn, named[arn])
    return text


def difference(owner: str, requests: dict[Request, list[Call]], grants: set[Grant]) -> str:
    missing, unused = compare(requests, grants)
    if not missing and not unused:
        return ""
    lines = [f"{owner}: its policy and its calls differ"]
    lines += [
        f"  called, not granted: {r.action} {readable(r.resource)}  <- {', '.join(sorted({str(c) for c in requests[r]}))}"
        for r in sorted(missing)
    ]
    lines += [f"  granted, never called: {g.action} {readable(g.resource)}" for g in sorted(unused)]
    lines += ["  granted:"] + [f"    {g.action} {readable(g.resource)}" for g in sorted(grants)]
    return "\n".join(lines)


# ---------------------------------------------------------------------- the tests


def test_every_function_is_exercised(recorded: Recorder) -> None:
    """Every function of the template (with the edge) made calls here; none were made off-stage."""
    deployed_functions = sorted(r.logical_id for r in deployed().template.of_type("AWS::Lambda::Function"))
    assert deployed_functions == FUNCTIONS
    assert [f for f in FUNCTIONS if not recorded.of(f)] == []
    assert [str(c) for c in recorded.of(None)] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_policy_grants_exactly_what_the_code_calls(recorded: Recorder, function: str) -> None:
    requests: dict[Request, list[Call]] = {}
    for call in recorded.of(function):
        for request in iam_requests(call, ACCOUNT_ID):
            requests.setdefault(request, []).append(call)
    assert not difference(function, requests, function_grants(function)), difference(
        function, requests, function_grants(function)
    )


def task_resources(node: Any) -> list[dict[str, Any]]:
    """Every Task state of a definition, in Parallel branches and Map iterators too."""
    if isinstance(node, list):
        return [task for item in node for task in task_resources(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("Type") == "Task" else []
    return found + [task for value in node.values() for task in task_resources(value)]


def test_the_state_machine_invokes_exactly_the_aliases_of_its_tasks() -> None:
    """Its role allows lambda:InvokeFunction on each Task's function, as the definition names it
    (the step's ``live`` alias), and nothing else but the log delivery its Logging needs."""
    stack_ = deployed()
    resolver = stack_.resolver()
    machine = stack_.template.document["Resources"][STATE_MACHINE]["Properties"]
    definition = str(resolver.resolve(machine["DefinitionString"]))
    for key, value in resolver.resolve(machine["DefinitionSubstitutions"]).items():
        definition = definition.replace(f"${{{key}}}", str(value))
    requests: dict[Request, list[Call]] = {}
    for task in task_resources(json.loads(definition)):
        arn = task["Resource"]
        assert re.fullmatch(r"arn:aws:lambda:[^:]+:\d+:function:[^:]+(:[^:]+)?", arn), (
            f"not a function: {arn}"
        )
        requests[Request("lambda:InvokeFunction", arn)] = []
    assert len(requests) == 4
    role_id, _ = machine["RoleArn"]["Fn::GetAtt"]
    statements, managed = role_statements(role_id)
    assert {arn.split(":policy/", 1)[-1] for arn in managed} <= MONITORING_POLICIES
    kept = []
    for statement in statements:
        statement.pop("_policy")
        log_delivery = set(as_list(statement["Action"])) <= ACTIONS_WITHOUT_RESOURCES
        if not (log_delivery and statement["Resource"] == "*"):
            kept.append(statement)
    grants = allow_grants(kept)
    assert not [g for g in grants if "*" in g.resource], f"{STATE_MACHINE}: name each alias exactly"
    assert not difference(STATE_MACHINE, requests, grants), difference(STATE_MACHINE, requests, grants)


# ---------------------------------------------------------------------- the recorder itself


def test_presigning_and_transactions_are_recorded_as_iam_sees_them() -> None:
    """A presigned GET URL is s3:GetObject on its key, a presigned POST form s3:PutObject on its key;
    a transaction is one action per item, on that item's table; an index query names the index."""
    recorder = Recorder()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        with recorder.invocation("F"):
            s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "photos/p/1.jpg"})
            s3.generate_presigned_post("b", "uploads/p/1")
            key = {"id": {"S": "rex"}}
            with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
                dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "ConditionCheck": {
                                "TableName": "pets",
                                "Key": key,
                                "ConditionExpression": "attribute_exists(id)",
                            }
                        },
                        {"Put": {"TableName": "photos", "Item": key}},
                    ]
                )
            with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
                dynamodb.query(
                    TableName="photos",
                    IndexName="byCreatedAt",
                    KeyConditionExpression="id = :id",
                    ExpressionAttributeValues={":id": {"S": "rex"}},
                )
    requests = [r for call in recorder.of("F") for r in iam_requests(call, "123456789012")]
    table = "arn:aws:dynamodb:us-east-1:123456789012:table"
    assert requests == [
        Request("s3:GetObject", "arn:aws:s3:::b/photos/p/1.jpg"),
        Request("s3:PutObject", "arn:aws:s3:::b/uploads/p/1"),
        Request("dynamodb:ConditionCheckItem", f"{table}/pets"),
        Request("dynamodb:PutItem", f"{table}/photos"),
        Request("dynamodb:Query", f"{table}/photos/index/byCreatedAt"),
    ]
    grants = {Grant("s3:GetObject", "arn:aws:s3:::b/photos/*"), Grant("s3:PutObject", "arn:aws:s3:::b/*")}
    assert compare(requests[:2], grants) == (set(), set())
    assert compare(requests[:1], grants) == (set(), {Grant("s3:PutObject", "arn:aws:s3:::b/*")})
