"""Types shared by the services' models."""

import re
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

ResourceId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""An id used in paths and keys: ASCII letters, digits, ``_`` and ``-``, 1 to 64 characters."""

ItemT = TypeVar("ItemT", bound=BaseModel)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (line breaks and tabs included)")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL_BUT_LINE_BREAKS.search(value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


SingleLine = Annotated[str, AfterValidator(_single_line)]
"""Text on one line (names): any character but control characters. Add a ``Field`` for lengths."""

MultiLine = Annotated[str, AfterValidator(_multi_line)]
"""Free text (comments): line breaks and tabs allowed, other control characters not."""


class BuiltOnFirstUse(BaseModel):
    """Base of a model that only some requests need: its validator is built when first used.

    A cold start then builds only what its request uses (``defer_build``): a request body model
    waits for the first write, a page for the first list, the error body for the OpenAPI document.
    A model every route returns stays an ordinary ``BaseModel``: Powertools validates it through a
    ``TypeAdapter``, which cannot hand its build to a deferred model, so deferring it would build
    it twice.
    """

    model_config = ConfigDict(defer_build=True)


class Page(BuiltOnFirstUse, Generic[ItemT]):
    """One page of a list (API v2 shape)."""

    items: list[ItemT]
    nextToken: str | None = Field(default=None, description="Pass back as `nextToken` for the next page.")


class ErrorResponse(BuiltOnFirstUse):
    """Body of every 4xx and 5xx response."""

    message: str
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For validation errors: each offending field and what is wrong with it."
    )


class ItemIn(BuiltOnFirstUse):
    """Base of a catalogue item's PUT body.

    Policy: unknown fields are refused (400 naming them). The server-managed fields may be sent
    back unchanged from a GET and are ignored, except ``id``, which must equal the path id.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: ResourceId | None = Field(default=None, description="Optional; must equal the path id.")
    version: int | None = Field(default=None, description="Ignored; send If-Match for concurrency.")
    createdAt: str | None = Field(default=None, max_length=40, description="Ignored.")
    updatedAt: str | None = Field(default=None, max_length=40, description="Ignored.")


class Item(BaseModel):  # every catalogue route but DELETE returns one: built at import
    """Base of a stored catalogue item."""

    id: ResourceId
    version: int = Field(description="Incremented on every write; send it as If-Match.")
    createdAt: str
    updatedAt: str
