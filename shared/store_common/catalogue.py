"""Domain logic of a catalogue of versioned items (pets, foods).

It knows nothing of API Gateway: it takes validated models and ids, and raises domain errors.
Persistence sits behind ``ItemTable``; ``store_common.dynamo.VersionedItemTable`` implements it.

No lost update by default: a write that names no expected version may only create. Replacing or
deleting an existing item needs its version (``If-Match``), so a client that read version 3 can
never silently overwrite a version 4 it did not see. The table checks this atomically.
"""

from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from store_common.clock import utc_now
from store_common.errors import InvalidInput, ItemExists, NotFound, PreconditionFailed, PreconditionRequired
from store_common.models import Page
from store_common.pagination import decode_token, encode_token

ItemT = TypeVar("ItemT", bound=BaseModel)

SERVER_FIELDS = frozenset({"id", "version", "createdAt", "updatedAt"})
"""Fields the server manages; a client may send them back (e.g. a GET result) and they are ignored,
except ``id``, which must equal the path id."""


class ItemTable(Protocol):
    def get(self, item_id: str) -> dict[str, Any] | None: ...

    def page(
        self, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]: ...

    def replace(
        self,
        item_id: str,
        attributes: dict[str, Any],
        removed: set[str],
        now: str,
        expected_version: int | str | None = None,
    ) -> dict[str, Any]:
        """None expects no item (raise ``ItemExists``); a version or "*" expects one (PreconditionFailed)."""
        ...

    def delete(self, item_id: str, expected_version: int | str | None = None) -> dict[str, Any]:
        """As ``replace``, and returns the deleted item; an absent item is NotFound when
        ``expected_version`` is None."""
        ...


class EventPublisher(Protocol):
    """Where a service tells the others what happened (``store_common.events``: EventBridge)."""

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class Catalogue(Generic[ItemT]):
    """List, get, replace and delete items of one kind, stored with a version."""

    def __init__(
        self, table: ItemTable, item_model: type[ItemT], noun: str, events: EventPublisher | None = None
    ) -> None:
        self.table = table
        self.item_model = item_model
        self.noun = noun
        #: where ``<Noun>Deleted`` goes, for the services that keep data about an item (None: nowhere)
        self.events = events

    def get(self, item_id: str) -> ItemT:
        item = self.table.get(item_id)
        if item is None:
            raise NotFound(f"{self.noun} {item_id!r} not found")
        return self.item_model.model_validate(item)

    def list(self, limit: int, next_token: str | None) -> Page[ItemT]:
        start = decode_token(next_token, ("id",)) if next_token else None
        items, last_key = self.table.page(limit, start)
        return Page[self.item_model](  # type: ignore[name-defined]
            items=[self.item_model.model_validate(i) for i in items],
            nextToken=encode_token(last_key) if last_key else None,
        )

    def put(
        self,
        item_id: str,
        data: BaseModel,
        expected_version: int | str | None = None,
        *,
        create_only: bool = False,
    ) -> tuple[ItemT, bool]:
        """Create or replace the item; return it and whether it was created.

        ``expected_version``: the stored item's version (or "*": any) to replace; None creates
        only. An existing item without one is a ``PreconditionRequired`` (428), or, when the client
        asked to create only (``create_only``, ``If-None-Match: *``), a ``PreconditionFailed``.
        """
        body_id = getattr(data, "id", None)
        if body_id is not None and body_id != item_id:
            raise InvalidInput(f"body id {body_id!r} differs from the path id {item_id!r}")
        fields = data.model_dump(exclude=set(SERVER_FIELDS))
        attributes = {name: value for name, value in fields.items() if value is not None}
        removed = {name for name, value in fields.items() if value is None}
        try:
            stored = self.table.replace(item_id, attributes, removed, utc_now(), expected_version)
        except ItemExists:
            if create_only:
                raise PreconditionFailed(
                    f"{self.noun} {item_id!r} already exists and If-None-Match: * only creates; "
                    "to replace it, send If-Match with its version (see its ETag)"
                ) from None
            raise PreconditionRequired(
                f"{self.noun} {item_id!r} exists: send If-Match with its version (see its ETag) "
                "to replace it, or If-None-Match: * to create only"
            ) from None
        return self.item_model.model_validate(stored), stored["version"] == 1

    def delete(self, item_id: str, expected_version: int | str | None = None) -> None:
        """Delete the item; without ``expected_version`` only an absent one "succeeds" (NotFound).

        Then ``<Noun>Deleted`` (``{noun}Id``, the deleted ``version``, ``deletedAt``) is published,
        so that services holding data about the item remove theirs (photos and comments of a pet).
        ``deletedAt`` lets them keep what belongs to an item re-created under the same id since.
        """
        try:
            deleted = self.table.delete(item_id, expected_version)
        except ItemExists:
            raise PreconditionRequired(
                f"{self.noun} {item_id!r} exists: send If-Match with its version (see its ETag) to delete it"
            ) from None
        except NotFound:
            raise NotFound(f"{self.noun} {item_id!r} not found") from None
        if self.events is not None:
            self.events.publish(
                f"{self.noun.capitalize()}Deleted",
                {f"{self.noun}Id": item_id, "version": deleted["version"], "deletedAt": utc_now()},
            )
