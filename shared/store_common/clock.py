"""The time the services write: UTC, milliseconds, ISO 8601 with a ``Z`` (sorts as text)."""

from datetime import UTC, datetime


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
