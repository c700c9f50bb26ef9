"""Telling the other services what happened: events on the stack's EventBridge bus.

Each event's ``source`` is ``petstore.<service>`` and its ``detail-type`` what happened
(``PetDeleted``); the subscribers' rules are in template.yaml. The bus comes from the function's
``EVENT_BUS_NAME`` (template.yaml); the client is created on the first event (most requests send
none).
"""

import json
from functools import cached_property
from typing import Any

import boto3


class PublishFailed(RuntimeError):
    """EventBridge refused the event: a 500 (logged), though the write it reports has happened."""


class EventBridgePublisher:
    def __init__(self, bus_name: str, source: str) -> None:
        self.bus_name = bus_name
        self.source = source

    @cached_property
    def _client(self) -> Any:
        return boto3.client("events")

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        response = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": self.source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise PublishFailed(
                f"{detail_type} was not published: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )


def publisher(bus_name: str | None, service: str) -> EventBridgePublisher | None:
    """The service's publisher, when template.yaml gives it a bus (``EVENT_BUS_NAME``)."""
    return EventBridgePublisher(bus_name, f"petstore.{service}") if bus_name else None
