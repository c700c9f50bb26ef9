"""Configuration of the comments functions, read once per process from the environment template.yaml sets."""

from pydantic import Field
from store_common.config import IdempotentTableSettings


class ApiSettings(IdempotentTableSettings):
    """CommentsFunction: its table and idempotency records, display names, and the pets (pages)."""

    profiles_table_name: str = Field(alias="PROFILES_TABLE_NAME", min_length=3)
    pets_table_name: str = Field(alias="PETS_TABLE_NAME", min_length=3)
