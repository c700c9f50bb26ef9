"""The JWT authorizer: every rule of API Gateway's, each rejection case on its own."""

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
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


def unauthorized(value: str | None) -> str:
    result = check(value)
    assert not result.allowed
    assert result.status == 401
    assert result.www_authenticate is not None and result.www_authenticate.startswith("Bearer")
    return result.reason


def test_missing_token() -> None:
    assert unauthorized(None) == "no token"
    assert unauthorized("") == "no token"
    assert unauthorized("Bearer ") == "no token"
    assert check(None).www_authenticate == "Bearer"


@pytest.mark.parametrize("garbled", ["abc", "abc.def.ghi", "e30.e30.", "Bearer x.y", "a" * 500])
def test_garbled_token(garbled: str) -> None:
    assert unauthorized(garbled)


def test_expired() -> None:
    past = int(time.time()) - 10
    assert "expired" in unauthorized(token(claims(exp=past, iat=past - 3600)))


def test_not_before_in_the_future() -> None:
    assert "not valid yet" in unauthorized(token(claims(nbf=int(time.time()) + 600)))


def test_issued_in_the_future() -> None:
    assert "not valid yet" in unauthorized(token(claims(iat=int(time.time()) + 600)))


def test_no_expiry() -> None:
    assert unauthorized(token(claims(exp=None)))


def test_wrong_client_id() -> None:
    assert "audience" in unauthorized(token(claims(client_id="another-client")))


def test_no_audience_at_all() -> None:
    assert "audience" in unauthorized(token(claims(client_id=None)))


def test_wrong_issuer() -> None:
    assert "issuer" in unauthorized(
        token(claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"))
    )


def test_alg_none() -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    assert "algorithm 'none'" in unauthorized(unsigned)


def test_hs256_signed_with_the_public_key() -> None:
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims()).encode())
    import hashlib
    import hmac

    signature = hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    forged = b".".join([header, payload, jwt.utils.base64url_encode(signature)]).decode()
    assert "algorithm 'HS256'" in unauthorized(forged)


def test_another_rsa_key_with_the_same_kid() -> None:
    assert "signature" in unauthorized(token(key=OTHER_KEY, kid="k1"))


def test_unknown_kid() -> None:
    assert "kid" in unauthorized(token(kid="k2"))


def test_tampered_payload() -> None:
    header, _payload, signature = token().split(".")
    changed = jwt.utils.base64url_encode(json.dumps(claims(sub="admin")).encode()).decode()
    assert "signature" in unauthorized(".".join([header, changed, signature]))


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
