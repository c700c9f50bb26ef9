"""Types shared by the services' models."""

import re
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StringConstraints

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

ResourceId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""An id used in paths and keys: ASCII letters, digits, ``_`` and ``-``, 1 to 64 characters."""

ItemT = TypeVar("ItemT", bound=BaseModel)

Integer = StrictInt
"""A JSON integer and nothing else: ``"100"``, ``true``, ``100.0`` and ``1e2`` are refused (400)
rather than coerced (``true`` would have been 1). Add a ``Field`` for bounds."""

# C0 and C1 control characters (C1 holds U+0085, a line break) and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Embeddings, overrides and isolates: they reorder how the text around them is displayed.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")
# Nothing to see: white space, and the zero-width characters that look like nothing at all.
_INVISIBLE = re.compile("[\\s\u200b\u200c\u200d\u2060\ufeff]+")


def _text_problem(value: str) -> str | None:
    """What every text field refuses, line breaks aside."""
    if _BIDI_CONTROLS.search(value):
        return "must not contain bidirectional control characters (U+202A to U+202E, U+2066 to U+2069)"
    if "\ufffd" in value:
        return "must not contain U+FFFD, the replacement character of text that was not valid UTF-8"
    if value and _INVISIBLE.fullmatch(value):
        return "must contain a visible character, not only spaces or zero-width characters"
    return None


def _single_line(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the type check that follows reports it
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (line breaks and tabs included)")
    if _LINE_SEPARATORS.search(value):
        raise ValueError("must be one line: no line or paragraph separator (U+2028, U+2029)")
    problem = _text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _multi_line(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if _CONTROL_BUT_LINE_BREAKS.search(value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    problem = _text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# Checked before the models strip white space, so that a refused character is refused wherever it is.
SingleLine = Annotated[str, BeforeValidator(_single_line)]
"""Text on one line (names): no control characters, line or paragraph separators, bidirectional
controls or U+FFFD, and not only invisible characters. Add a ``Field`` for lengths."""

MultiLine = Annotated[str, BeforeValidator(_multi_line)]
"""Free text (comments): line breaks and tabs allowed; otherwise the rules of ``SingleLine``."""


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
    version: Integer | None = Field(default=None, description="Ignored; send If-Match for concurrency.")
    createdAt: str | None = Field(default=None, max_length=40, description="Ignored.")
    updatedAt: str | None = Field(default=None, max_length=40, description="Ignored.")


class Item(BaseModel):  # every catalogue route but DELETE returns one: built at import
    """Base of a stored catalogue item."""

    id: ResourceId
    version: int = Field(description="Incremented on every write; send it as If-Match.")
    createdAt: str
    updatedAt: str
