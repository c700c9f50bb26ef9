"""The food resource: what a client sends (FoodIn) and what the store returns (Food)."""

from typing import Annotated

from pydantic import Field
from store_common.models import Integer, Item, ItemIn, SingleLine


class FoodIn(ItemIn):
    """Body of PUT /foods/{foodId}."""

    name: Annotated[SingleLine, Field(min_length=1, max_length=100)]
    species: Annotated[SingleLine, Field(min_length=1, max_length=40, description="The animal it is for.")]
    priceCents: Annotated[Integer, Field(ge=0, le=100_000_000)]
    weightGrams: Annotated[Integer | None, Field(ge=1, le=1_000_000)] = None


class Food(Item):
    name: str
    species: str
    priceCents: int
    weightGrams: int | None = None
