"""Comments on a page: what a client posts (CommentIn), what the service returns (Comment), and
the event that removes a deleted pet's comments (PetDeletedEvent)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from store_common.models import BuiltOnFirstUse, Integer, MultiLine, ResourceId

TIMESTAMP_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
COMMENT_ID_PATTERN = r"^[0-9a-f]{32}$"


class CommentIn(BuiltOnFirstUse):
    """Body of POST /comments. The author comes from the token, never from the body."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    pageId: Annotated[ResourceId, Field(description="The pet commented on; it must exist (else 404).")]
    message: Annotated[MultiLine, Field(min_length=1, max_length=2000)]


class Comment(BaseModel):  # both routes return comments: built at import
    pageId: ResourceId
    commentId: str
    message: str
    authorId: str
    authorName: str = Field(description="The author's display name (PUT /me) when they wrote it.")
    createdAt: str


class _PetDeleted(BuiltOnFirstUse):
    petId: ResourceId
    version: Integer = Field(ge=1)
    deletedAt: Annotated[str, Field(pattern=TIMESTAMP_PATTERN)]


class PetDeletedEvent(BuiltOnFirstUse):
    """The EventBridge event the pets service publishes (source ``petstore.pets``; only what is used)."""

    source: Annotated[str, Field(pattern=r"^petstore\.pets$")]
    detail_type: Annotated[str, Field(alias="detail-type", pattern=r"^PetDeleted$")]
    detail: _PetDeleted
