"""Request parameters shared by the services' routes (validated and documented by Powertools)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from store_common.models import ID_PATTERN

IdParam = Annotated[str, Path(pattern=ID_PATTERN, description="Item id: letters, digits, _ and -, 1 to 64.")]
IfMatch = Annotated[
    str | None,
    Header(alias="if-match", description="Only write if the stored item has this version (412 if not)."),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page, 1 to 100.")]
NextToken = Annotated[
    str | None, Query(alias="nextToken", max_length=1024, description="From the previous page.")
]
