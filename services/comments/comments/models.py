"""Comments on a page: what a client posts (CommentIn) and what the service returns (Comment)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from store_common.models import BuiltOnFirstUse, MultiLine, ResourceId


class CommentIn(BuiltOnFirstUse):
    """Body of POST /comments. The author comes from the token, never from the body."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    pageId: ResourceId
    message: Annotated[MultiLine, Field(min_length=1, max_length=2000)]


class Author(BuiltOnFirstUse):
    id: str = Field(description="The token's `sub`.")
    name: str


class Comment(BaseModel):  # both routes return comments: built at import
    pageId: ResourceId
    commentId: str
    message: str
    authorId: str
    authorName: str
    createdAt: str
