"""A user's profile: what they send (ProfileIn) and what the service returns (Profile)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from store_common.models import BuiltOnFirstUse, SingleLine

DisplayName = Annotated[
    SingleLine,
    Field(
        min_length=1,
        max_length=40,
        description="Shown on the user's comments: one line, 1 to 40 characters (surrounding spaces dropped).",
        examples=["Ada L."],
    ),
]


class ProfileIn(BuiltOnFirstUse):
    """Body of PUT /me. Whose profile it is comes from the token, never from the body."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    displayName: DisplayName


class Profile(BaseModel):  # both routes return one: built at import
    userId: str = Field(description="The token's `sub`.")
    displayName: str
    updatedAt: str
