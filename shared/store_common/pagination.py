"""Opaque ``nextToken`` values: a DynamoDB ``LastEvaluatedKey`` as URL-safe base64 JSON.

Decoding checks the token against the table's key attributes and the id pattern, so a
client can neither crash the query nor point it at keys it could not reach by paging.
"""

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from store_common.errors import InvalidInput
from store_common.models import ID_PATTERN

_ID_RE = re.compile(ID_PATTERN)
_MAX_TOKEN_CHARS = 1024


def encode_token(last_key: Mapping[str, str]) -> str:
    raw = json.dumps(dict(last_key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(
    token: str,
    key_names: tuple[str, ...],
    *,
    sort_key_pattern: str | None = None,
    partition: tuple[str, str] | None = None,
) -> dict[str, str]:
    """Return the start key encoded in ``token``, or raise ``InvalidInput``.

    ``partition`` (value, noun): the list is one partition's (``key_names[0]``), and a token from
    another partition's list is refused by name ("nextToken belongs to another pet").
    """
    invalid = InvalidInput("nextToken is invalid; pass back the value from the previous page")
    if len(token) > _MAX_TOKEN_CHARS:
        raise invalid
    try:
        padded = token + "=" * (-len(token) % 4)
        key: Any = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise invalid from None
    if not isinstance(key, dict) or set(key) != set(key_names):
        raise invalid
    for name, value in key.items():
        if not isinstance(value, str):
            raise invalid
        pattern = sort_key_pattern if (sort_key_pattern and name == key_names[-1]) else ID_PATTERN
        if not re.fullmatch(pattern, value):
            raise invalid
    if partition is not None and key[key_names[0]] != partition[0]:
        raise InvalidInput(f"nextToken belongs to another {partition[1]}")
    return key
