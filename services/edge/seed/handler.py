"""CloudFormation custom resource that writes the stack's own rows into the version mapping table.

Why a custom resource: the rows name the HTTP API's domain, which exists only once the stack is
deployed, and the edge function has no other way to learn it (Lambda@Edge has no environment).

Properties (``Custom::VersionMappingSeed``):

* ``TableName``: the mapping table.
* ``Mappings``: rows ``{"version", "domainName", "originPath"?, "protocol"?, "port"?}``; each must
  pass the edge's own validation (``versioning.mapping.parse_route``) or nothing is written.

Create and Update put the rows (an Update also removes the rows of versions it no longer lists).
Delete removes only the rows this resource wrote, and only if they still hold what it wrote: a row
an operator changed or added by hand (a v3) survives. The physical id names the table, so moving to
another table makes CloudFormation send a Delete for the old one.

CloudFormation waits up to an hour for an answer, so every path answers: any exception is a FAILED
response, and a timer sends FAILED shortly before the function's own timeout.
"""

import json
import sys
import threading
import time
import traceback
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from versioning.mapping import parse_route

MAX_ROWS: Final = 25
SECONDS_KEPT_FOR_THE_ANSWER: Final = 3.0
SEND_ATTEMPTS: Final = 3
_CLIENT_CONFIG: Final = Config(
    connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
)
_ROW_FIELDS: Final = {"version": "S", "domainName": "S", "originPath": "S", "protocol": "S", "port": "N"}


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON line on stdout (CloudWatch Logs)."""
    sys.stdout.write(json.dumps({"level": level, "message": message, **fields}, default=str) + "\n")


def rows_from(properties: Mapping[str, Any]) -> list[dict[str, dict[str, str]]]:
    """The DynamoDB items for a ``Mappings`` property; ``ValueError`` if any is invalid."""
    mappings = properties.get("Mappings")
    if not isinstance(mappings, list) or not 1 <= len(mappings) <= MAX_ROWS:
        raise ValueError(f"Mappings must be a list of 1 to {MAX_ROWS} rows")
    items: list[dict[str, dict[str, str]]] = []
    for mapping in mappings:
        if not isinstance(mapping, dict) or set(mapping) - set(_ROW_FIELDS):
            raise ValueError(f"each mapping is an object with only {sorted(_ROW_FIELDS)}")
        item = {"originPath": {"S": ""}}  # CloudFormation may drop an empty string; "" is the default
        item.update({name: {_ROW_FIELDS[name]: str(value)} for name, value in mapping.items()})
        parse_route(item)
        items.append(item)
    if len({item["version"]["S"] for item in items}) != len(items):
        raise ValueError("Mappings lists a version twice")
    return items


class Seeder:
    """Puts and conditionally deletes the rows in one table."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        if not isinstance(table_name, str) or not table_name:
            raise ValueError("TableName is required")
        self.table_name = table_name
        self.client = client or boto3.client("dynamodb", config=_CLIENT_CONFIG)

    def put(self, items: list[dict[str, dict[str, str]]]) -> None:
        for item in items:
            self.client.put_item(TableName=self.table_name, Item=item)

    def delete_unchanged(self, items: list[dict[str, dict[str, str]]]) -> list[str]:
        """Delete each row that still holds exactly what was written; returns the versions deleted."""
        deleted = []
        for item in items:
            names = {f"#a{i}": name for i, name in enumerate(item)}
            values = {f":v{i}": value for i, value in enumerate(item.values())}
            try:
                self.client.delete_item(
                    TableName=self.table_name,
                    Key={"version": item["version"]},
                    ConditionExpression=" AND ".join(f"#a{i} = :v{i}" for i in range(len(item))),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
                deleted.append(item["version"]["S"])
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code == "ResourceNotFoundException":
                    log("INFO", "mapping table already gone", table=self.table_name)
                    return deleted
                if code != "ConditionalCheckFailedException":
                    raise
                log("INFO", "row kept: changed since it was seeded", version=item["version"]["S"])
        return deleted


def physical_id(table_name: str) -> str:
    return f"{table_name}/version-mapping-seed"


def handle(event: Mapping[str, Any], client: Any | None = None) -> str:
    """Do what the request asks; returns the physical resource id."""
    request_type = event["RequestType"]
    properties = event.get("ResourceProperties") or {}
    if request_type == "Delete":  # answered with the id CloudFormation sent, as it expects
        deleting = str(event["PhysicalResourceId"])
        try:
            items = rows_from(properties)
            seeder = Seeder(properties.get("TableName", ""), client)
        except ValueError as error:  # these properties never wrote anything
            log("INFO", "nothing to delete", reason=str(error))
            return deleting
        deleted = seeder.delete_unchanged(items)
        log("INFO", "seeded rows deleted", table=seeder.table_name, versions=deleted)
        return deleting
    if request_type not in ("Create", "Update"):
        raise ValueError(f"unknown RequestType {request_type!r}")
    items = rows_from(properties)
    seeder = Seeder(properties.get("TableName", ""), client)
    seeder.put(items)
    log("INFO", "rows seeded", table=seeder.table_name, versions=[item["version"]["S"] for item in items])
    old = event.get("OldResourceProperties") or {}
    if request_type == "Update" and old.get("TableName") == seeder.table_name:
        try:
            old_items = rows_from(old)
        except ValueError:
            old_items = []
        kept = {item["version"]["S"] for item in items}
        dropped = [item for item in old_items if item["version"]["S"] not in kept]
        if dropped:
            seeder.delete_unchanged(dropped)
    return physical_id(seeder.table_name)


class Responder:
    """Answers CloudFormation once, by a PUT of the result to the pre-signed ``ResponseURL``."""

    def __init__(self, event: Mapping[str, Any], log_stream: str) -> None:
        self.event = event
        self.log_stream = log_stream
        self._lock = threading.Lock()
        self.sent = False

    def send(self, status: str, physical_resource_id: str, reason: str = "") -> None:
        with self._lock:
            if self.sent:
                return
            self.sent = True
            url = self.event["ResponseURL"]
            if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
                raise ValueError("ResponseURL must be an http(s) URL")
            body = json.dumps(
                {
                    "Status": status,
                    "Reason": (reason or f"See CloudWatch log stream {self.log_stream}")[:1000],
                    "PhysicalResourceId": physical_resource_id,
                    "StackId": self.event["StackId"],
                    "RequestId": self.event["RequestId"],
                    "LogicalResourceId": self.event["LogicalResourceId"],
                    "NoEcho": False,
                    "Data": {},
                }
            ).encode()
            # The URL is signed for an empty content type; its scheme was checked above (S310).
            request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})  # noqa: S310
            for attempt in range(1, SEND_ATTEMPTS + 1):
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                        log("INFO", "answered CloudFormation", status=status, http=response.status)
                        return
                except OSError as error:
                    log("ERROR", "could not answer CloudFormation", attempt=attempt, error=str(error))
                    if attempt < SEND_ATTEMPTS:
                        time.sleep(attempt)


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Custom resource entry point: always answers CloudFormation, SUCCESS or FAILED."""
    log(
        "INFO",
        "custom resource request",
        requestType=event.get("RequestType"),
        logicalId=event.get("LogicalResourceId"),
    )
    responder = Responder(event, getattr(context, "log_stream_name", ""))
    fallback_id = str(event.get("PhysicalResourceId") or f"{event.get('LogicalResourceId')}-not-created")
    seconds_left = context.get_remaining_time_in_millis() / 1000 - SECONDS_KEPT_FOR_THE_ANSWER
    timer = threading.Timer(
        max(seconds_left, 0.1), responder.send, ("FAILED", fallback_id, "Timed out seeding the table")
    )
    timer.daemon = True
    timer.start()
    try:
        resource_id = handle(event)
    except Exception as error:
        log(
            "ERROR",
            "custom resource failed",
            error=f"{type(error).__name__}: {error}",
            trace=traceback.format_exc(),
        )
        timer.cancel()
        responder.send(
            "FAILED", fallback_id, f"{type(error).__name__}: {error} (log stream {responder.log_stream})"
        )
        return
    timer.cancel()
    responder.send("SUCCESS", resource_id)
