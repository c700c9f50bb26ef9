"""Asynchronous invocations (``InvocationType: Event``, EventBridge targets) run as Lambda runs them:
a failure is retried as the function's EventInvokeConfig says, then the event goes to its
dead-letter queue with Lambda's attributes. And DynamoDB TTL, which moto lacks, deletes expired items.
"""

from __future__ import annotations

import json
import time
from typing import Any

from localcloud.dynamodb_ttl import sweep

from .conftest import EchoCloud

WAIT_SECONDS = 15


def queue_messages(echo: EchoCloud, queue_name: str) -> list[dict[str, Any]]:
    sqs = echo.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=url, MessageAttributeNames=["All"], MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        if messages:
            return list(messages)
    return []


def test_a_failing_asynchronous_invocation_is_retried_then_dead_lettered(echo_cloud: EchoCloud) -> None:
    function = echo_cloud.cloud.stack.functions["EchoFunction"]  # type: ignore[union-attr]
    assert function.async_retries == 1 and function.dead_letter_arn is not None
    event = {"action": "raise", "marker": "async-dlq"}
    response = echo_cloud.client("lambda").invoke(
        FunctionName=function.function_name, InvocationType="Event", Payload=json.dumps(event)
    )
    assert response["StatusCode"] == 202  # accepted at once, as Lambda answers
    (message,) = queue_messages(echo_cloud, "echo-test-dead-letters")
    assert json.loads(message["Body"]) == event
    attributes = message["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"] == "boom on purpose"
    assert attributes["RequestID"]["StringValue"]
    failures = [line for line in echo_cloud.console.lines if "async-dlq" in line or "failed after" in line]
    assert any("failed after 2 attempt(s)" in line for line in failures), failures


def test_a_succeeding_asynchronous_invocation_leaves_no_dead_letter(echo_cloud: EchoCloud) -> None:
    function = echo_cloud.cloud.stack.functions["EchoFunction"]  # type: ignore[union-attr]
    result = echo_cloud.cloud.runtime.invoke_async("EchoFunction", {"action": "simple"})  # type: ignore[union-attr]
    assert result.ok and result.payload == {"hello": "world"}
    sqs = echo_cloud.client("sqs")
    url = sqs.get_queue_url(QueueName="echo-test-dead-letters")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []
    assert function.dead_letter_arn


def test_ttl_deletes_expired_items_only(echo_cloud: EchoCloud) -> None:
    """(In the echo cloud's backend: an in-process ``mock_aws`` would reset its moto state.)"""
    dynamodb = echo_cloud.client("dynamodb")
    dynamodb.create_table(
        TableName="ttl-check",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName="ttl-check", TimeToLiveSpecification={"AttributeName": "expiresAt", "Enabled": True}
    )
    now = time.time()
    items = {"old": {"N": str(int(now) - 100)}, "young": {"N": str(int(now) + 3600)}, "forever": None}
    for key, expires in items.items():
        dynamodb.put_item(
            TableName="ttl-check", Item={"id": {"S": key}, **({"expiresAt": expires} if expires else {})}
        )
    sweep(dynamodb, now=now)  # the backend's own sweeper may have been first: the outcome is the same
    assert sweep(dynamodb, now=now) == 0
    left = {item["id"]["S"] for item in dynamodb.scan(TableName="ttl-check")["Items"]}
    assert left == {"young", "forever"}


def test_the_local_backend_sweeps_expired_items(echo_cloud: EchoCloud) -> None:
    dynamodb = echo_cloud.client("dynamodb")
    table = echo_cloud.cloud.stack.physical["EchoTable"].ref  # type: ignore[union-attr]
    key = {"pk": {"S": "ttl"}, "sk": {"S": "expired"}}
    dynamodb.put_item(TableName=table, Item={**key, "expiresAt": {"N": str(int(time.time()) - 1)}})
    deadline = time.monotonic() + WAIT_SECONDS
    while "Item" in dynamodb.get_item(TableName=table, Key=key) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key)
