"""Domain errors. Domain code raises these; it knows nothing of HTTP.

``store_common.http`` maps each to a status code and a JSON ``{"message": ...}`` body.
"""


class DomainError(Exception):
    """Base class: the message is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """The request is well-formed JSON but makes no sense (400)."""


class NotFound(DomainError):
    """The item does not exist (404)."""


class PreconditionFailed(DomainError):
    """An ``If-Match`` version does not match the stored item (412)."""


class Unauthenticated(DomainError):
    """The request carries no identity where one is required (401)."""
