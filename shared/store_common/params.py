"""Request parameters shared by the services' routes (validated and documented by Powertools)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from store_common.models import ID_PATTERN

IdParam = Annotated[str, Path(pattern=ID_PATTERN, description="Item id: letters, digits, _ and -, 1 to 64.")]
IfMatch = Annotated[
    str | None,
    Header(
        alias="if-match",
        description=(
            'The version to replace or delete, as the ETag gives it: N, "N" or W/"N"; * for any '
            "version. Required when the item exists (428 without it); 412 when it does not match."
        ),
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="if-none-match",
        description="`*`: create only; 412 when the item already exists. No other value is accepted.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page, 1 to 100.")]
NextToken = Annotated[
    str | None, Query(alias="nextToken", max_length=1024, description="From the previous page.")
]
