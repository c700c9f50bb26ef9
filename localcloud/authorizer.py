"""API Gateway's JWT authorizer for HTTP APIs, by its documented rules.

AWS documents the checks ("Controlling access to HTTP APIs with JWT authorizers"); each is
enforced here, in this order, before any handler runs:

1. the token comes from the identity source (a header or query parameter); a ``Bearer`` prefix
   is optional; no token -> 401;
2. the algorithm is RSA (RS256/384/512) and the signature verifies against the key whose ``kid``
   is in the issuer's JWKS (``alg: none``, HMAC, unknown ``kid``, another key -> 401);
3. ``iss`` equals the configured issuer;
4. ``aud`` -- or ``client_id`` when there is no ``aud`` -- is one of the configured audiences;
5. ``exp`` is in the future, ``nbf`` and ``iat`` are not;
6. when the route names authorization scopes, the token's ``scope``/``scp`` holds one of them,
   else 403.

The JWKS is fetched from the issuer (OpenID discovery), except that Cognito issuers
(``https://cognito-idp.<region>.amazonaws.com/<poolId>``) are mapped to the local backend's
``/<poolId>/.well-known/jwks.json``, because moto puts the real-looking issuer in its tokens even
in server mode. Key sets are cached per issuer and refreshed at most every 30 s when an unknown
``kid`` shows up (key rotation), as API Gateway does.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

__all__ = [
    "AuthorizationResult",
    "JwtAuthorizer",
    "JwtAuthorizerSpec",
    "local_jwks_url",
]

RSA_ALGORITHMS = ("RS256", "RS384", "RS512")
_COGNITO_ISSUER = re.compile(
    r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/(?P<pool>[\w-]+_[0-9A-Za-z]+)$"
)
_REFRESH_SECONDS = 30.0


@dataclass(frozen=True)
class JwtAuthorizerSpec:
    """An HttpApi's ``Auth.Authorizers.<name>`` entry with a ``JwtConfiguration``."""

    name: str
    issuer: str
    audience: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"
    #: the authorizer's own ``AuthorizationScopes`` (routes may override)
    scopes: tuple[str, ...] = ()


@dataclass
class AuthorizationResult:
    allowed: bool
    status: int = 200
    www_authenticate: str | None = None
    reason: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    scopes: list[str] | None = None

    @classmethod
    def unauthorized(cls, reason: str, missing: bool = False) -> AuthorizationResult:
        challenge = (
            "Bearer"
            if missing
            else f'Bearer scope="" error="invalid_token" error_description="{reason.replace(chr(34), chr(39))}"'
        )
        return cls(False, 401, challenge, reason)


def local_jwks_url(aws_endpoint_url: str) -> Callable[[str], str | None]:
    """Maps Cognito issuers to the local backend's JWKS; other issuers use OpenID discovery."""

    def jwks_url(issuer: str) -> str | None:
        match = _COGNITO_ISSUER.match(issuer)
        if match:
            return f"{aws_endpoint_url.rstrip('/')}/{match.group('pool')}/.well-known/jwks.json"
        return None

    return jwks_url


def _fetch_json(url: str) -> Any:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - scheme checked above
        return json.loads(response.read())


class JwtAuthorizer:
    """Verifies bearer tokens for all JWT authorizers of the local gateways (thread-safe)."""

    def __init__(
        self,
        jwks_url_for_issuer: Callable[[str], str | None],
        fetch_json: Callable[[str], Any] = _fetch_json,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._jwks_url_for_issuer = jwks_url_for_issuer
        self._fetch_json = fetch_json
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, jwt.PyJWK]] = {}
        self._fetched_at: dict[str, float] = {}

    def authorize(
        self,
        spec: JwtAuthorizerSpec,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        route_scopes: tuple[str, ...],
    ) -> AuthorizationResult:
        """``headers`` lower-cased; returns allowed with claims, or the 401/403 to send."""
        token = self._token(spec.identity_source, headers, query)
        if not token:
            return AuthorizationResult.unauthorized("no token", missing=True)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return AuthorizationResult.unauthorized("the token is not a valid JWT")
        algorithm = header.get("alg")
        if algorithm not in RSA_ALGORITHMS:
            return AuthorizationResult.unauthorized(f"the token's algorithm {algorithm!r} is not RSA")
        key = self._key(spec.issuer, str(header.get("kid", "")))
        if key is None:
            return AuthorizationResult.unauthorized("the token's kid is not in the issuer's key set")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                options={"verify_aud": False, "verify_iss": False, "require": ["exp"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            return AuthorizationResult.unauthorized("the token has expired")
        except jwt.ImmatureSignatureError:
            return AuthorizationResult.unauthorized("the token is not valid yet (nbf or iat in the future)")
        except jwt.InvalidSignatureError:
            return AuthorizationResult.unauthorized("the token does not have a valid signature")
        except jwt.PyJWTError as error:
            return AuthorizationResult.unauthorized(f"the token is invalid: {error}")
        if claims.get("iss") != spec.issuer:
            return AuthorizationResult.unauthorized("the token's issuer is not the configured issuer")
        if "aud" in claims:
            audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        else:
            audiences = [claims["client_id"]] if "client_id" in claims else []
        if not any(str(audience) in spec.audience for audience in audiences):
            return AuthorizationResult.unauthorized("the token's audience (aud or client_id) is not allowed")
        token_scopes = _scopes(claims)
        if route_scopes and not set(route_scopes) & set(token_scopes or []):
            return AuthorizationResult(
                False,
                403,
                f'Bearer scope="{" ".join(route_scopes)}" error="insufficient_scope" '
                f'error_description="expected scopes: [{" ".join(route_scopes)}]"',
                "the token has none of the route's scopes",
            )
        return AuthorizationResult(True, claims=claims, scopes=token_scopes)

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _token(identity_source: str, headers: Mapping[str, str], query: Mapping[str, str]) -> str:
        source = identity_source.strip()
        value = ""
        if source.lower().startswith("$request.header."):
            value = headers.get(source[len("$request.header.") :].lower(), "")
        elif source.lower().startswith("$request.querystring."):
            value = query.get(source[len("$request.querystring.") :], "")
        value = value.strip()
        if value.lower() == "bearer" or value[:7].lower() == "bearer ":
            value = value[6:].strip()
        return value

    def _key(self, issuer: str, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            keys = self._keys.get(issuer)
            stale = self._clock() - self._fetched_at.get(issuer, float("-inf")) > _REFRESH_SECONDS
            if keys is None or (kid not in keys and stale):
                try:
                    keys = self._load_keys(issuer)
                except (OSError, ValueError, jwt.PyJWTError):
                    keys = keys or {}
                self._keys[issuer] = keys
                self._fetched_at[issuer] = self._clock()
            return keys.get(kid)

    def _load_keys(self, issuer: str) -> dict[str, jwt.PyJWK]:
        url = self._jwks_url_for_issuer(issuer)
        if url is None:
            url = str(self._fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")["jwks_uri"])
        keys: dict[str, jwt.PyJWK] = {}
        for entry in self._fetch_json(url).get("keys", []):
            if entry.get("kty") == "RSA" and "kid" in entry:
                keys[str(entry["kid"])] = jwt.PyJWK.from_dict(entry, algorithm=entry.get("alg", "RS256"))
        return keys


def _scopes(claims: Mapping[str, Any]) -> list[str] | None:
    raw = claims.get("scope", claims.get("scp"))
    if raw is None:
        return None
    if isinstance(raw, list):
        return [str(item) for item in raw]
    return str(raw).split()
