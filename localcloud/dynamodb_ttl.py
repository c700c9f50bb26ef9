"""DynamoDB Time to Live, which moto does not emulate: expired items are deleted in the background.

A table's ``TimeToLiveSpecification`` names a number attribute holding an epoch time in seconds;
DynamoDB deletes an item some time after that time has passed (AWS: "typically within a few
days"; reads may still return it until then, which is why code must not rely on the deletion for
correctness). Locally a sweep every :data:`SWEEP_SECONDS` does it, through the backend's own API
(so ``--persist`` journals it like any write): each expired item is deleted with a condition that
it is still expired, so an item whose TTL attribute was removed or moved since is kept, as on
DynamoDB.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["SWEEP_SECONDS", "TtlSweeper", "sweep"]

SWEEP_SECONDS = 2.0


def sweep(dynamodb: Any, now: float | None = None) -> int:
    """Deletes every expired item of every table with TTL enabled; returns how many."""
    now = time.time() if now is None else now
    deleted = 0
    for name in [n for page in dynamodb.get_paginator("list_tables").paginate() for n in page["TableNames"]]:
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") != "ENABLED":
            continue
        keys = [key["AttributeName"] for key in dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]]
        expired = {
            "FilterExpression": "#ttl < :now",
            "ExpressionAttributeNames": {"#ttl": ttl["AttributeName"]},
            "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
        }
        for page in dynamodb.get_paginator("scan").paginate(TableName=name, **expired):
            for item in page["Items"]:
                try:
                    dynamodb.delete_item(
                        TableName=name,
                        Key={key: item[key] for key in keys},
                        ConditionExpression=expired["FilterExpression"],
                        ExpressionAttributeNames=expired["ExpressionAttributeNames"],
                        ExpressionAttributeValues=expired["ExpressionAttributeValues"],
                    )
                    deleted += 1
                except ClientError as error:  # updated meanwhile: no longer expired
                    if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                        raise
    return deleted


class TtlSweeper:
    """Runs :func:`sweep` every :data:`SWEEP_SECONDS` until stopped."""

    def __init__(
        self, dynamodb: Any, console: Callable[[str], None], interval: float = SWEEP_SECONDS
    ) -> None:
        self._dynamodb = dynamodb
        self._console = console
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dynamodb-ttl", daemon=True)

    def start(self) -> TtlSweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                sweep(self._dynamodb)
            except (BotoCoreError, ClientError) as error:  # the backend is stopping, or a table is gone
                if not self._stop.is_set():
                    self._console(f"localcloud: DynamoDB TTL sweep failed: {error}")
