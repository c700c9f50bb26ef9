"""CORS as an HTTP API applies its ``CorsConfiguration`` (not as a web framework would).

API Gateway answers preflight ``OPTIONS`` requests itself (204, no integration, no authorizer),
adds the ``access-control-*`` headers to every response for an allowed origin, and ignores the
CORS headers the integration returns. A disallowed origin gets no CORS headers at all, so the
browser refuses the response.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CorsSpec"]


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(item) for item in value)


@dataclass(frozen=True)
class CorsSpec:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_configuration(cls, configuration: Any) -> CorsSpec | None:
        """From an API's resolved ``CorsConfiguration`` (CloudFormation: ``AllowOrigins``, ...) or
        OpenAPI ``x-amazon-apigateway-cors`` (``allowOrigins``, ...); None when there is none."""
        if not isinstance(configuration, dict):
            return None
        configuration = {key[:1].upper() + key[1:]: value for key, value in configuration.items()}
        return cls(
            allow_origins=_strings(configuration.get("AllowOrigins")),
            allow_methods=tuple(method.upper() for method in _strings(configuration.get("AllowMethods"))),
            allow_headers=tuple(header.lower() for header in _strings(configuration.get("AllowHeaders"))),
            expose_headers=tuple(header.lower() for header in _strings(configuration.get("ExposeHeaders"))),
            max_age=int(configuration["MaxAge"]) if configuration.get("MaxAge") is not None else None,
            allow_credentials=bool(configuration.get("AllowCredentials", False)),
        )

    def origin_allowed(self, origin: str | None) -> bool:
        if not origin:
            return False
        return any(
            allowed == "*" or allowed == origin or ("*" in allowed and fnmatch.fnmatchcase(origin, allowed))
            for allowed in self.allow_origins
        )

    @staticmethod
    def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
        return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers

    def preflight_headers(self, headers: Mapping[str, str]) -> list[tuple[str, str]]:
        """Headers of the 204 preflight answer; empty when the request is not allowed."""
        origin = headers.get("origin")
        if not self.origin_allowed(origin):
            return []
        method = headers.get("access-control-request-method", "").upper()
        if "*" not in self.allow_methods and method not in self.allow_methods:
            return []
        requested = [h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",")]
        if "*" not in self.allow_headers and any(h and h not in self.allow_headers for h in requested):
            return []
        result = [("access-control-allow-origin", self._allow_origin_value(str(origin)))]
        if self.allow_methods:
            result.append(("access-control-allow-methods", ",".join(self.allow_methods)))
        if self.allow_headers:
            result.append(("access-control-allow-headers", ",".join(self.allow_headers)))
        if self.max_age is not None:
            result.append(("access-control-max-age", str(self.max_age)))
        if self.allow_credentials:
            result.append(("access-control-allow-credentials", "true"))
        return result

    def response_headers(self, headers: Mapping[str, str]) -> list[tuple[str, str]]:
        """CORS headers for an actual (non-preflight) response."""
        origin = headers.get("origin")
        if not self.origin_allowed(origin):
            return []
        result = [("access-control-allow-origin", self._allow_origin_value(str(origin)))]
        if self.expose_headers:
            result.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        if self.allow_credentials:
            result.append(("access-control-allow-credentials", "true"))
        return result

    def _allow_origin_value(self, origin: str) -> str:
        return "*" if "*" in self.allow_origins and not self.allow_credentials else origin
