"""The pet resource: what a client sends (PetIn) and what the store returns (Pet)."""

from typing import Annotated

from pydantic import Field
from store_common.models import Integer, Item, ItemIn, SingleLine


class PetIn(ItemIn):
    """Body of PUT /pets/{petId}."""

    name: Annotated[SingleLine, Field(min_length=1, max_length=100)]
    species: Annotated[SingleLine, Field(min_length=1, max_length=40, examples=["dog"])]
    breed: Annotated[SingleLine | None, Field(max_length=60)] = None
    ageMonths: Annotated[Integer | None, Field(ge=0, le=600)] = None
    priceCents: Annotated[Integer, Field(ge=0, le=100_000_000)]


class Pet(Item):
    name: str
    species: str
    breed: str | None = None
    ageMonths: int | None = None
    priceCents: int
