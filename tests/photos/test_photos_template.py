"""The photo pipeline's definition: the state machine, and what template.yaml promises around it.

The template is read with the local cloud's loader: ``SOURCE`` is what template.yaml says (SAM),
``DEPLOYED`` what the SAM transform makes of it (CloudFormation, Globals merged), as AWS and the local
cloud deploy it.
"""

import json
import re
from pathlib import Path
from typing import Any

import photos.events as events
import photos.steps as steps
import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from photos.dal import CREATED_AT_INDEX
from photos.errors import NotPending
from photos.logic import UPLOAD_PREFIX
from photos.models import PhotoRecord
from photos.settings import ApiSettings, CleanupSettings, ResizeSettings, ValidateSettings
from pydantic import BaseModel
from store_common.config import TableSettings

from localcloud.template import load_template
from tests.support import EVENTS, ROOT

TEMPLATE = load_template(ROOT / "template.yaml")
DEPLOYED = TEMPLATE.resources
SOURCE: dict[str, dict[str, Any]] = {
    name: resource.get("Properties", {}) for name, resource in TEMPLATE.source["Resources"].items()
}
MACHINE = SOURCE["ImagePipelineStateMachine"]
ASL_TEXT = (ROOT / MACHINE["DefinitionUri"]).read_text()
ASL: dict[str, Any] = json.loads(ASL_TEXT)
STATES: dict[str, dict[str, Any]] = ASL["States"]

PERMANENT_ERRORS = {"InvalidImage", "UnexpectedInput", "NotFound", NotPending.__name__}
RETRIED_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "States.Timeout",
    "TransientError",
}
STEP_FUNCTIONS = {
    "ValidatePhotoFunction": "validate",
    "ResizePhotoFunction": "resize",
    "PublishPhotoFunction": "publish",
    "RecordPhotoFailureFunction": "record_failure",
}


def targets(state: dict[str, Any]) -> list[str]:
    found = [state["Next"]] if "Next" in state else []
    found += [catcher["Next"] for catcher in state.get("Catch", [])]
    found += [choice["Next"] for choice in state.get("Choices", [])]
    found += [state["Default"]] if "Default" in state else []
    return found


def substituted() -> str:
    definition = ASL_TEXT
    for name, value in MACHINE["DefinitionSubstitutions"].items():
        function = value["Ref"].split(".")[0]
        arn = f"arn:aws:lambda:us-east-1:123456789012:function:petstore-local-{function}:live"
        definition = definition.replace("${" + name + "}", arn)
    return definition


# ---------------------------------------------------------------------- the state machine


def test_definition_is_valid_asl() -> None:
    """moto's executor is LocalStack's ASL parser: the definition it runs must parse."""
    program, _ = AmazonStateLanguageParser.parse(substituted())
    assert program is not None


def test_every_transition_target_exists_and_every_state_is_reachable() -> None:
    assert ASL["StartAt"] in STATES
    reachable: set[str] = set()
    pending = [ASL["StartAt"]]
    while pending:
        name = pending.pop()
        if name in reachable:
            continue
        reachable.add(name)
        for target in targets(STATES[name]):
            assert target in STATES, f"{name} -> {target}: no such state"
            pending.append(target)
    assert reachable == set(STATES)
    for name, state in STATES.items():
        terminal = state["Type"] in ("Succeed", "Fail") or state.get("End") is True
        assert terminal or "Next" in state, f"{name} neither ends nor goes anywhere"


def test_the_happy_path_is_validate_resize_publish() -> None:
    path, name = [], ASL["StartAt"]
    while "Next" in STATES[name]:
        path.append(name)
        name = STATES[name]["Next"]
    assert path == ["Validate", "Resize", "Publish"] and STATES[name]["Type"] == "Succeed"


def test_each_step_retries_transient_errors_briefly_and_records_everything_else() -> None:
    for name in ("Validate", "Resize", "Publish", "RecordFailure"):
        state = STATES[name]
        retried = {error for retrier in state["Retry"] for error in retrier["ErrorEquals"]}
        assert retried == RETRIED_ERRORS, name
        assert not retried & (PERMANENT_ERRORS | {"States.ALL", "States.TaskFailed"}), name
        for retrier in state["Retry"]:
            assert retrier["IntervalSeconds"] <= 2 and retrier["BackoffRate"] <= 2.0, name
            assert 2 <= retrier["MaxAttempts"] <= 5, name
    for name in ("Validate", "Resize", "Publish"):
        (catcher,) = STATES[name]["Catch"]
        assert catcher == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}


def test_a_failure_is_recorded_then_fails_the_execution_with_the_original_error() -> None:
    record = STATES["RecordFailure"]
    assert "Catch" not in record  # if even recording fails, the execution fails loudly
    assert record["ResultPath"] not in (None, "$")  # $.error survives for the Fail state
    fail = STATES[record["Next"]]
    assert fail["Type"] == "Fail"
    assert (fail["ErrorPath"], fail["CausePath"]) == ("$.error.Error", "$.error.Cause")


def test_task_timeouts_exceed_the_function_timeouts() -> None:
    """States.Timeout then means a lost invocation, not a slow one that Lambda would stop anyway."""
    for state in STATES.values():
        if state["Type"] == "Task":
            function = _function_of(state["Resource"])
            assert state["TimeoutSeconds"] > int(DEPLOYED[function].properties["Timeout"])


def test_every_substitution_is_provided_and_used() -> None:
    """Each step is invoked by its published alias (``!Ref Function.Alias``), never $LATEST: a
    canary or a rollback of a step function then applies to the pipeline too."""
    used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", ASL_TEXT))
    assert used == set(MACHINE["DefinitionSubstitutions"])
    for value in MACHINE["DefinitionSubstitutions"].values():
        assert set(value) == {"Ref"} and value["Ref"].endswith(".Alias"), value


def test_each_task_runs_a_step_handler() -> None:
    """That the machine's role invokes exactly these tasks' aliases, and nothing else, is
    tests/template/test_least_privilege.py's to prove (as for every function's role)."""
    tasks = {_function_of(s["Resource"]) for s in STATES.values() if s["Type"] == "Task"}
    assert tasks == set(STEP_FUNCTIONS)
    for function, name in STEP_FUNCTIONS.items():
        properties = SOURCE[function]
        assert properties["Handler"] == f"photos.steps.{name}"
        assert properties["CodeUri"] == "services/photos/"
        assert callable(getattr(steps, name))


def _function_of(resource: str) -> str:
    (name,) = re.fullmatch(r"\$\{([A-Za-z0-9_]+)\}", resource).groups()  # type: ignore[union-attr]
    function: str = MACHINE["DefinitionSubstitutions"][name]["Ref"].split(".")[0]
    return function


# ---------------------------------------------------------------------- around it


def test_uploads_under_the_prefix_start_the_pipeline() -> None:
    (event,) = MACHINE["Events"].values()
    assert event["Type"] == "EventBridgeRule"
    pattern = event["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "UploadsBucket"}]
    assert pattern["detail"]["object"]["key"] == [{"prefix": UPLOAD_PREFIX}]
    assert event["Properties"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["AsyncFailuresQueue", "Arn"]}}
    notifications = DEPLOYED["UploadsBucket"].properties["NotificationConfiguration"]
    assert notifications == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def test_the_state_machine_logs_errors_and_traces() -> None:
    assert MACHINE["Logging"]["Level"] == "ERROR"
    assert MACHINE["Tracing"] == {"Enabled": True}


@pytest.mark.parametrize("bucket", ["UploadsBucket", "DistributionBucket"])
def test_buckets_are_private_encrypted_and_tls_only(bucket: str) -> None:
    properties = DEPLOYED[bucket].properties
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    policies = [
        r.properties["PolicyDocument"]
        for r in DEPLOYED.values()
        if r.type == "AWS::S3::BucketPolicy" and r.properties["Bucket"] == {"Ref": bucket}
    ]
    (policy,) = policies
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Statement"]
    )


def test_photos_table_lists_newest_first_through_the_index_the_code_queries() -> None:
    properties = DEPLOYED["PhotosTable"].properties
    assert [k["AttributeName"] for k in properties["KeySchema"]] == ["petId", "photoId"]
    (index,) = properties["LocalSecondaryIndexes"]
    assert index["IndexName"] == CREATED_AT_INDEX
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["petId", "createdAt"]


def test_uploading_and_deleting_need_a_token_and_listing_does_not() -> None:
    """Staff only is the handler's rule (``staff_only_route``); the template names those routes."""
    events = SOURCE["PhotosFunction"]["Events"]
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]): e["Properties"] for e in events.values()}
    assert set(routes) == {
        ("POST", "/pets/{petId}/photos"),
        ("GET", "/pets/{petId}/photos"),
        ("DELETE", "/pets/{petId}/photos/{photoId}"),
    }
    assert "Auth" not in routes[("POST", "/pets/{petId}/photos")]  # the API's default: the JWT authorizer
    assert "Auth" not in routes[("DELETE", "/pets/{petId}/photos/{photoId}")]
    assert routes[("GET", "/pets/{petId}/photos")]["Auth"] == {"Authorizer": "NONE"}


SETTINGS: dict[str, type[BaseModel]] = {
    "PhotosFunction": ApiSettings,
    "ValidatePhotoFunction": ValidateSettings,
    "ResizePhotoFunction": ResizeSettings,
    "PublishPhotoFunction": TableSettings,
    "RecordPhotoFailureFunction": TableSettings,
    "PhotosCleanupFunction": CleanupSettings,
}


@pytest.mark.parametrize("function", SETTINGS)
def test_each_function_environment_satisfies_its_settings(function: str) -> None:
    variables = DEPLOYED[function].properties["Environment"]["Variables"]
    environment = {k: v if isinstance(v, str) else f"resolved-{k.lower()}" for k, v in variables.items()}
    SETTINGS[function].model_validate(environment)


def test_sample_events_exist_for_every_case() -> None:
    names = {path.stem for path in Path(EVENTS).glob("photos-*.json")}
    assert names == {
        "photos-request-upload",
        "photos-request-upload-invalid",
        "photos-list",
        "photos-object-created",
        "photos-validate-input",
        "photos-resize-input",
        "photos-publish-input",
        "photos-record-failure-input",
        "photos-delete",
        "photos-pet-deleted",
    }
    for name in names:
        json.loads((Path(EVENTS) / f"{name}.json").read_text())


# ---------------------------------------------------------------------- refusals, expiry, cleanup


def test_a_refused_upload_is_never_retried_and_ends_in_record_failure() -> None:
    """NotPending (an upload to a READY or FAILED photo) is permanent: caught like any failure, and
    RecordFailure (``pipeline.record_failure``) marks nothing for it."""
    for name in ("Validate", "Resize", "Publish", "RecordFailure"):
        retried = {error for retrier in STATES[name]["Retry"] for error in retrier["ErrorEquals"]}
        assert NotPending.__name__ not in retried, name
    for name in ("Validate", "Publish"):
        (catcher,) = STATES[name]["Catch"]
        assert catcher["ErrorEquals"] == ["States.ALL"] and catcher["Next"] == "RecordFailure"


def test_pending_records_expire_through_the_ttl_attribute_the_code_writes() -> None:
    ttl = DEPLOYED["PhotosTable"].properties["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expiresAt", "Enabled": True}
    assert "expiresAt" in PhotoRecord.model_fields


def test_the_cleanup_function_hears_pet_deleted_with_retries_and_a_dead_letter_queue() -> None:
    properties = SOURCE["PhotosCleanupFunction"]
    assert properties["Handler"] == "photos.events.pet_deleted" and callable(events.pet_deleted)
    assert properties["CodeUri"] == "services/photos/"
    (event,) = properties["Events"].values()
    assert event["Type"] == "EventBridgeRule"
    assert event["Properties"]["Pattern"] == {"source": ["petstore.pets"], "detail-type": ["PetDeleted"]}
    assert event["Properties"]["EventBusName"] == {"Ref": "StoreEventBus"}
    assert "DeadLetterConfig" in event["Properties"] and properties["DeadLetterQueue"]["Type"] == "SQS"
