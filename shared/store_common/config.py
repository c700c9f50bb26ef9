"""Configuration read once at cold start from the function's environment, validated."""

import os
from typing import Self

from pydantic import BaseModel, ConfigDict, Field


class TableSettings(BaseModel):
    """A service that owns one DynamoDB table (TABLE_NAME, set by template.yaml)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME", min_length=3)

    @classmethod
    def from_environment(cls) -> Self:
        return cls.model_validate(dict(os.environ))


class CatalogueSettings(TableSettings):
    """A catalogue (pets, foods); ``EVENT_BUS_NAME`` when others must hear of its deletions."""

    event_bus_name: str | None = Field(alias="EVENT_BUS_NAME", default=None, min_length=1)


class IdempotentTableSettings(TableSettings):
    """A service that also keeps Powertools idempotency records (IDEMPOTENCY_TABLE_NAME)."""

    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=3)
