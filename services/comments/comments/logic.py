"""Domain logic of comments: post one, list a page's comments newest first.

Items are keyed by page (partition) and ``<createdAt>#<commentId>`` (sort), so a page's newest
comments are one Query in descending order, never a Scan.
"""

import uuid
from typing import Any, Protocol

from store_common.catalogue import utc_now
from store_common.models import Page
from store_common.pagination import decode_token, encode_token

from comments.models import Author, Comment, CommentIn

SORT_KEY_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z#[0-9a-f]{32}$"
KEY_NAMES = ("pageId", "sortKey")


class CommentTable(Protocol):
    def insert(self, item: dict[str, Any]) -> None: ...

    def newest_first(
        self, page_id: str, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]: ...


class Comments:
    def __init__(self, table: CommentTable) -> None:
        self.table = table

    def post(self, author: Author, data: CommentIn) -> Comment:
        created_at = utc_now()
        comment_id = uuid.uuid4().hex
        comment = Comment(
            pageId=data.pageId,
            commentId=comment_id,
            message=data.message,
            authorId=author.id,
            authorName=author.name,
            createdAt=created_at,
        )
        self.table.insert({**comment.model_dump(), "sortKey": f"{created_at}#{comment_id}"})
        return comment

    def list(self, page_id: str, limit: int, next_token: str | None) -> Page[Comment]:
        start = None
        if next_token:
            start = decode_token(
                next_token, KEY_NAMES, sort_key_pattern=SORT_KEY_PATTERN, partition=(page_id, "page")
            )
        items, last_key = self.table.newest_first(page_id, limit, start)
        return Page[Comment](
            items=[Comment.model_validate(i) for i in items],
            nextToken=encode_token(last_key) if last_key else None,
        )
