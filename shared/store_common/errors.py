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
    """An ``If-Match`` version does not match the stored item, or ``If-None-Match: *`` found it (412)."""


class ItemExists(PreconditionFailed):
    """A write allowed only on an absent item found it there; ``version`` is the stored one.

    A 412 as it is; the catalogue turns it into a 428 when the client sent no precondition at all.
    """

    def __init__(self, message: str, version: int | None = None) -> None:
        super().__init__(message)
        self.version = version


class PreconditionRequired(DomainError):
    """A replace or delete of an existing item sent no ``If-Match`` (428): it could lose an update."""


class Forbidden(DomainError):
    """The caller is signed in but may not do this (403)."""


class Conflict(DomainError):
    """What the request depends on was being written at the same moment; a retry will do (409)."""


class Unauthenticated(DomainError):
    """The request carries no identity where one is required (401)."""
