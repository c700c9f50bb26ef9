"""One row of the version mapping table, validated into the origin CloudFront should use.

The edge function and the deploy-time seed both go through ``parse_route``, so the seed can never
write a row that the edge would then ignore. Rows are kept in DynamoDB's attribute-value form
(``{"S": ...}``) because the edge reads them with the low-level client: no resource layer or
type deserializer to import at cold start.

A row: ``version`` (key, ``v`` and 1 to 3 digits), ``domainName`` (``host`` or ``host:port``),
``originPath`` (``""`` or ``/a/b``, as CloudFront wants it: a leading slash and no trailing one),
and the optional ``protocol`` (``https`` by default, ``http`` for a local origin) and ``port``.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

VERSION_PATTERN: Final = re.compile(r"v[0-9]{1,3}")
DEFAULT_PORTS: Final = {"https": 443, "http": 80}

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST: Final = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT: Final = re.compile(r"[0-9]{1,5}")
# CloudFront's origin path: starts with "/", no trailing "/", no query or fragment, at most 255 chars.
_ORIGIN_PATH: Final = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*")


@dataclass(frozen=True, slots=True)
class Route:
    """Where one API version is served; ``host`` is the ``Host`` header value to send there."""

    version: str
    domain_name: str
    port: int
    protocol: str
    origin_path: str
    host: str


def version_number(version: str) -> int:
    """Sort key of a valid version token: ``v10`` comes after ``v9``."""
    return int(version[1:])


def _attribute(item: Mapping[str, Any], name: str, kinds: tuple[str, ...] = ("S",)) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"{name} is not a DynamoDB attribute value")
    ((kind, raw),) = value.items()
    if kind == "NULL":
        return None
    if kind not in kinds or not isinstance(raw, str):
        raise ValueError(f"{name} must be of DynamoDB type {' or '.join(kinds)}")
    return raw


def parse_route(item: Mapping[str, Any]) -> Route:
    """Validate one mapping row; ``ValueError`` says what is wrong with it."""
    version = _attribute(item, "version")
    if version is None or not VERSION_PATTERN.fullmatch(version):
        raise ValueError("version must be 'v' followed by 1 to 3 digits")
    domain = _attribute(item, "domainName")
    if not domain:
        raise ValueError(f"{version}: domainName is required")
    host, has_port, domain_port = domain.partition(":")
    if len(host) > 253 or not _HOST.fullmatch(host) or (has_port and not _PORT.fullmatch(domain_port)):
        raise ValueError(f"{version}: domainName must be a host name or IPv4 address, optionally ':port'")
    protocol = (_attribute(item, "protocol") or "https").lower()
    if protocol not in DEFAULT_PORTS:
        raise ValueError(f"{version}: protocol must be http or https")
    ports = set()
    for text in (domain_port if has_port else None, _attribute(item, "port", ("N", "S"))):
        if text is None:
            continue
        if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
            raise ValueError(f"{version}: port must be 1 to 65535")
        ports.add(int(text))
    if len(ports) > 1:
        raise ValueError(f"{version}: the port in domainName and the port attribute differ")
    port = ports.pop() if ports else DEFAULT_PORTS[protocol]
    origin_path = _attribute(item, "originPath") or ""
    if len(origin_path) > 255 or not _ORIGIN_PATH.fullmatch(origin_path):
        raise ValueError(f"{version}: originPath must be empty or like /v1 (leading slash, none trailing)")
    host_header = host if port == DEFAULT_PORTS[protocol] else f"{host}:{port}"
    return Route(version, host, port, protocol, origin_path, host_header)
