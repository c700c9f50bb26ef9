"""Deleting a pet tells the other services (PetDeleted on the stack's bus); deleting food does not:
nobody keeps data about a food, so the template gives the foods service no bus."""

import json

import boto3

from tests.services.conftest import Invoke
from tests.support import body_of, function_environment, load_event, physical_name

# Read at import, before a test's own mock_aws: the template's deployment would otherwise land in it.
PETS_ENVIRONMENT = function_environment("PetsFunction")
FOODS_ENVIRONMENT = function_environment("FoodsFunction")
STORE_BUS = physical_name("StoreEventBus")


def listen(bus: str) -> str:
    """A queue receiving what the pets service publishes on ``bus`` (moto delivers to SQS in-process)."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="listener")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="everything", EventBusName=bus, EventPattern=json.dumps({"source": ["petstore.pets"]})
    )
    events.put_targets(Rule="everything", EventBusName=bus, Targets=[{"Id": "listener", "Arn": arn}])
    return str(url)


def received(url: str) -> list[dict]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_deleting_a_pet_publishes_pet_deleted_with_its_version(invoke: Invoke) -> None:
    assert PETS_ENVIRONMENT["EVENT_BUS_NAME"] == STORE_BUS
    url = listen(STORE_BUS)
    assert invoke("PetsFunction", load_event("pets-put"))["statusCode"] == 201
    deleted = invoke("PetsFunction", load_event("pets-delete"))
    assert deleted["statusCode"] == 204, body_of(deleted)
    (event,) = received(url)
    assert event["source"] == "petstore.pets" and event["detail-type"] == "PetDeleted"
    assert event["detail"]["petId"] == load_event("pets-delete")["pathParameters"]["petId"]
    assert event["detail"]["version"] == 1 and event["detail"]["deletedAt"].endswith("Z")


def test_a_refused_delete_publishes_nothing(invoke: Invoke) -> None:
    url = listen(STORE_BUS)
    unconditional = load_event("pets-delete")
    unconditional["headers"].pop("if-match")
    absent = invoke("PetsFunction", unconditional)
    assert absent["statusCode"] == 404
    assert received(url) == []


def test_foods_have_no_bus() -> None:
    assert "EVENT_BUS_NAME" not in FOODS_ENVIRONMENT
