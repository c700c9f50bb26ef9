"""The JWT authorizer's mechanics: accepted tokens, scopes, identity sources, key sets.

Each rejection case (no token, garbage, alg none, HS256 with the public key, another key with the
same kid, expired, not yet valid, wrong issuer or client, tampered...) is in the over-HTTP table of
``tests/security/test_token_attacks.py``, which checks the reason this authorizer gives as well.
"""

import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from localcloud.authorizer import JwtAuthorizer, JwtAuthorizerSpec, local_jwks_url

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1"
CLIENT = "client-1"
SPEC = JwtAuthorizerSpec(name="Jwt", issuer=ISSUER, audience=(CLIENT,))
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    document = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**document, "kid": kid, "alg": "RS256", "use": "sig"}


class Jwks:
    """The issuer's key set, as fetched over HTTP (counts the fetches)."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.fetched: list[str] = []

    def __call__(self, url: str) -> Any:
        self.fetched.append(url)
        return {"keys": self.keys}


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {
        "iss": ISSUER,
        "sub": "user-1",
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "iat": now,
        "exp": now + 3600,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def token(
    payload: dict[str, Any] | None = None, key: Any = KEY, kid: str = "k1", algorithm: str = "RS256"
) -> str:
    return jwt.encode(payload or claims(), key, algorithm=algorithm, headers={"kid": kid})


def authorizer(jwks: Jwks | None = None) -> JwtAuthorizer:
    return JwtAuthorizer(local_jwks_url("http://127.0.0.1:4566"), fetch_json=jwks or Jwks(jwk(KEY, "k1")))


def check(
    value: str | None,
    scopes: tuple[str, ...] = (),
    header: str = "authorization",
    spec: JwtAuthorizerSpec = SPEC,
):
    headers = {header: value} if value is not None else {}
    return authorizer().authorize(spec, headers, {}, scopes)


def test_valid_access_token() -> None:
    result = check(f"Bearer {token()}")
    assert result.allowed
    assert result.claims["sub"] == "user-1"
    assert result.scopes == ["aws.cognito.signin.user.admin"]


def test_bearer_prefix_is_optional() -> None:
    assert check(token()).allowed
    assert check(f"bearer   {token()}").allowed


def test_valid_id_token_by_aud() -> None:
    id_token = token(claims(client_id=None, aud=CLIENT, token_use="id", scope=None))
    result = check(id_token)
    assert result.allowed
    assert result.scopes is None


def test_aud_takes_precedence_over_client_id() -> None:
    assert not check(token(claims(aud="someone-else"))).allowed
    assert check(token(claims(aud=["x", CLIENT], client_id="wrong"))).allowed


def test_rs512_is_an_rsa_algorithm_too() -> None:
    assert check(token(algorithm="RS512")).allowed


def test_scopes() -> None:
    assert check(token(), scopes=("aws.cognito.signin.user.admin", "other")).allowed
    refused = check(token(), scopes=("pets/admin",))
    assert not refused.allowed and refused.status == 403
    assert refused.www_authenticate and 'error="insufficient_scope"' in refused.www_authenticate
    assert check(token(claims(scope=None, scp=["pets/admin"])), scopes=("pets/admin",)).allowed
    assert check(token(claims(scope=None)), scopes=("pets/admin",)).status == 403


def test_identity_source_query_string() -> None:
    spec = JwtAuthorizerSpec(
        name="Q", issuer=ISSUER, audience=(CLIENT,), identity_source="$request.querystring.token"
    )
    assert authorizer().authorize(spec, {}, {"token": token()}, ()).allowed
    assert not authorizer().authorize(spec, {"authorization": token()}, {}, ()).allowed


def test_custom_header_identity_source() -> None:
    spec = JwtAuthorizerSpec(
        name="H", issuer=ISSUER, audience=(CLIENT,), identity_source="$request.header.X-Token"
    )
    assert check(token(), header="x-token", spec=spec).allowed


def test_cognito_issuer_maps_to_the_local_jwks_and_is_cached() -> None:
    jwks = Jwks(jwk(KEY, "k1"))
    checker = authorizer(jwks)
    for _ in range(3):
        assert checker.authorize(SPEC, {"authorization": token()}, {}, ()).allowed
    assert jwks.fetched == ["http://127.0.0.1:4566/us-east-1_Pool1/.well-known/jwks.json"]


def test_key_rotation_refetches_for_an_unknown_kid_at_most_every_30_seconds() -> None:
    jwks = Jwks(jwk(KEY, "k1"))
    now = [1000.0]
    checker = JwtAuthorizer(local_jwks_url("http://aws"), fetch_json=jwks, clock=lambda: now[0])
    rotated = token(key=OTHER_KEY, kid="k2")
    assert checker.authorize(SPEC, {"authorization": token()}, {}, ()).allowed
    assert not checker.authorize(SPEC, {"authorization": rotated}, {}, ()).allowed
    jwks.keys.append(jwk(OTHER_KEY, "k2"))
    assert not checker.authorize(SPEC, {"authorization": rotated}, {}, ()).allowed  # within 30 s: no refetch
    now[0] += 31
    assert checker.authorize(SPEC, {"authorization": rotated}, {}, ()).allowed
    assert len(jwks.fetched) == 2


def test_other_issuers_use_openid_discovery() -> None:
    documents = {
        "https://issuer.example/.well-known/openid-configuration": {
            "jwks_uri": "https://issuer.example/keys"
        },
        "https://issuer.example/keys": {"keys": [jwk(KEY, "k1")]},
    }
    spec = JwtAuthorizerSpec(name="X", issuer="https://issuer.example", audience=("aud",))
    checker = JwtAuthorizer(local_jwks_url("http://aws"), fetch_json=documents.__getitem__)
    signed = token(claims(iss="https://issuer.example", client_id=None, aud="aud"))
    assert checker.authorize(spec, {"authorization": signed}, {}, ()).allowed


def test_unreachable_jwks_rejects() -> None:
    def down(url: str) -> Any:
        raise OSError("connection refused")

    checker = JwtAuthorizer(local_jwks_url("http://aws"), fetch_json=down)
    assert not checker.authorize(SPEC, {"authorization": token()}, {}, ()).allowed
