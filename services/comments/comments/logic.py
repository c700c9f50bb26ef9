"""Domain logic of comments: post one on a pet's page, list a page's comments newest first, delete
one (its author or staff), and remove a deleted pet's comments.

A page is a pet: ``pageId`` is a pet id, and a comment is written only while its pet exists (the
table checks it in the same transaction as the write). Items are keyed by page (partition) and
``<createdAt>#<commentId>`` (sort), so a page's newest comments are one Query in descending order,
never a Scan, and the comments written up to a moment are one key range.
"""

import uuid
from typing import Any, Literal, Protocol

from store_common.clock import utc_now
from store_common.errors import Forbidden, NotFound
from store_common.models import Page
from store_common.pagination import decode_token, encode_token

from comments.models import Comment, CommentIn

SORT_KEY_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z#[0-9a-f]{32}$"
KEY_NAMES = ("pageId", "sortKey")
DEFAULT_AUTHOR_NAME = "Customer"
"""The name on a comment whose author has no profile: never their email or user id."""
NOT_YOURS = "Only the comment's author or store staff may delete it"
_AFTER_ANY_COMMENT_ID = "#\uffff"
"""Sorts after ``#<commentId>``: ``<createdAt>`` + this bounds every comment written at that instant."""

DeleteOutcome = Literal["deleted", "absent", "refused"]


class CommentTable(Protocol):
    def insert(self, item: dict[str, Any]) -> None:
        """Write a new comment if its page's pet exists, atomically: NotFound when it does not,
        Conflict when the pet was being written at the same moment."""
        ...

    def newest_first(
        self, page_id: str, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]: ...

    def find(self, page_id: str, comment_id: str) -> dict[str, Any] | None:
        """The comment's ``sortKey`` and ``authorId``, or None."""
        ...

    def delete(self, page_id: str, sort_key: str, author_id: str | None) -> DeleteOutcome:
        """Delete the comment if it exists and, when ``author_id`` is given, was written by them
        (one conditional delete): "absent" when it does not exist, "refused" when not theirs."""
        ...


class AuthorNames(Protocol):
    def display_name(self, user_id: str) -> str | None: ...


class CommentCleaner(Protocol):
    def delete_up_to(self, page_id: str, last_sort_key: str) -> int:
        """Delete the page's comments whose sort key is at most ``last_sort_key``; how many there were."""
        ...


class Comments:
    def __init__(self, table: CommentTable, names: AuthorNames) -> None:
        self.table = table
        self.names = names

    def post(self, author_id: str, data: CommentIn) -> Comment:
        """A new comment by ``author_id`` (the token's subject), under their current display name."""
        created_at = utc_now()
        comment_id = uuid.uuid4().hex
        comment = Comment(
            pageId=data.pageId,
            commentId=comment_id,
            message=data.message,
            authorId=author_id,
            authorName=self.names.display_name(author_id) or DEFAULT_AUTHOR_NAME,
            createdAt=created_at,
        )
        self.table.insert(
            {**comment.model_dump(), "sortKey": f"{created_at}#{comment_id}"}
        )  # NotFound, Conflict
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

    def delete(self, page_id: str, comment_id: str, user_id: str, is_staff: bool) -> None:
        """Delete a comment: staff may delete any, anyone else only their own (Forbidden)."""
        absent = NotFound(f"comment {comment_id!r} not found on page {page_id!r}")
        found = self.table.find(page_id, comment_id)
        if found is None:
            raise absent
        outcome = self.table.delete(page_id, found["sortKey"], None if is_staff else user_id)
        if outcome == "absent":  # deleted by someone else since it was found
            raise absent
        if outcome == "refused":
            raise Forbidden(NOT_YOURS)


def delete_comments_up_to(cleaner: CommentCleaner, pet_id: str, deleted_at: str) -> int:
    """Delete the comments of a pet deleted at ``deleted_at``: those written at or before then.

    A pet re-created under the same id afterwards keeps the comments written since. Safe to run
    again: what is already deleted is simply not found.
    """
    return cleaner.delete_up_to(pet_id, deleted_at + _AFTER_ANY_COMMENT_ID)
