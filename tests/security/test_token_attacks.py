"""Token attacks against the JWT authorizer, over HTTP: every one is a 401 and writes nothing.

Why one table over HTTP: the authorizer is what stands between the internet and every write, and
its rules live in two places -- the template's ``JwtConfiguration`` (issuer = the user pool,
audience = the app client) and the gateway that enforces them (API Gateway on AWS,
``localcloud.authorizer`` locally). Driving the deployed routes, not the authorizer class, tests
both together; with ``E2E_CONFIG_URL`` the same table runs against a deployed stack.

A case either forges a token or uses a real one where it does not belong. Cases marked "signed by
the issuer" carry a valid signature, so only the claim under test can get them refused: locally
they are signed with the key the local Cognito signs with (moto bundles it; a positive control
below shows such a token *is* accepted when its claims are right). A deployed pool's key is
secret, so there they are signed with an attacker's key and are refused for the signature too.

Documented behaviour, tested as such (not attacks, since API Gateway accepts them):

* Every signed-in route requires the ``aws.cognito.signin.user.admin`` scope, so an **ID token**
  (no ``scope`` claim), though its ``aud`` is the app client, is refused with 403 (API Gateway's
  rule: ``aud`` or ``client_id`` must match the audience, then the route's scopes must be in the
  token's); see ``tests/localcloud/test_authorizer.py::test_scopes``.
* A JWT authorizer verifies tokens offline: the access token of a user who was **disabled or
  deleted** stays valid until it expires (at most ``AccessTokenValidity``, 60 minutes); after
  expiry it is refused (cases below), and such a user can no longer get a new one.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import moto
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.stack_client import PET, TIMEOUT, cognito_client, new_staff_tokens, sign_up_and_in, unique
from tests.support import E2E_CONFIG_URL

pytestmark = pytest.mark.slow

ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64(document: dict[str, Any] | bytes) -> str:
    raw = document if isinstance(document, bytes) else json.dumps(document, separators=(",", ":")).encode()
    return jwt.utils.base64url_encode(raw).decode()


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


@dataclass
class Material:
    """Everything the cases are made from."""

    access: str  # a valid access token of the stack's own app client
    id_token: str
    kid: str
    public_pem: bytes  # the pool's public signing key
    issuer_key: Any  # what "signed by the issuer" signs with (see the module doc)
    other_client_access: str
    other_client_id_token: str
    other_pool_access: str
    deleted_user_access: str
    disabled_user_access: str

    def signed(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(claims, self.issuer_key, "RS256", headers={"kid": self.kid, **header})

    def changed(self, **changes: Any) -> str:
        """The valid access token's claims with ``changes`` (None removes a claim), re-signed."""
        claims = {**claims_of(self.access), **changes}
        return self.signed({k: v for k, v in claims.items() if v is not None})


def issuer_signing_key() -> Any:
    """The key the local Cognito signs every pool's tokens with (bundled in moto)."""
    bundled = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-private.json.gz"
    document = json.loads(gzip.decompress(bundled.read_bytes()))
    entry = document["keys"][0] if "keys" in document else document
    return RSAAlgorithm.from_jwk(json.dumps(entry))


def pool_jwks(config: dict[str, Any]) -> dict[str, Any]:
    cognito = config["cognito"]
    base = cognito.get("endpointUrl") or f"https://cognito-idp.{cognito['region']}.amazonaws.com"
    response = requests.get(
        f"{base.rstrip('/')}/{cognito['userPoolId']}/.well-known/jwks.json", timeout=TIMEOUT
    )
    response.raise_for_status()
    return dict(response.json())


@pytest.fixture(scope="module")
def material(stack_config: dict[str, Any]) -> Iterator[Material]:
    cognito = cognito_client(stack_config)
    pool_id = stack_config["cognito"]["userPoolId"]
    own = new_staff_tokens(stack_config, "victim")  # staff: the control PUTs a pet
    kid = jwt.get_unverified_header(own["AccessToken"])["kid"]
    jwk = next(key for key in pool_jwks(stack_config)["keys"] if key["kid"] == kid)
    public_pem = RSAAlgorithm.from_jwk(json.dumps(jwk)).public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    other_client = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName=unique("attack-other"), ExplicitAuthFlows=flows
    )["UserPoolClient"]["ClientId"]
    other_pool = cognito.create_user_pool(PoolName=unique("attack-other"), UsernameAttributes=["email"])[
        "UserPool"
    ]["Id"]
    other_pool_client = cognito.create_user_pool_client(
        UserPoolId=other_pool, ClientName="attack", ExplicitAuthFlows=flows
    )["UserPoolClient"]["ClientId"]
    try:
        other = sign_up_and_in(cognito, pool_id, other_client, f"{unique('other')}@example.com")
        deleted = new_staff_tokens(stack_config, "deleted")
        cognito.admin_delete_user(UserPoolId=pool_id, Username=deleted["email"])
        disabled = new_staff_tokens(stack_config, "disabled")
        cognito.admin_disable_user(UserPoolId=pool_id, Username=disabled["email"])
        yield Material(
            access=own["AccessToken"],
            id_token=own["IdToken"],
            kid=kid,
            public_pem=public_pem,
            issuer_key=ATTACKER_KEY if E2E_CONFIG_URL else issuer_signing_key(),
            other_client_access=other["AccessToken"],
            other_client_id_token=other["IdToken"],
            other_pool_access=sign_up_and_in(
                cognito, other_pool, other_pool_client, f"{unique('pool')}@example.com"
            )["AccessToken"],
            deleted_user_access=deleted["AccessToken"],
            disabled_user_access=disabled["AccessToken"],
        )
    finally:
        cognito.delete_user_pool_client(UserPoolId=pool_id, ClientId=other_client)
        cognito.delete_user_pool(UserPoolId=other_pool)


def expired(token: str) -> dict[str, Any]:
    now = int(time.time())
    return {**claims_of(token), "iat": now - 7200, "auth_time": now - 7200, "exp": now - 3600}


def hs256_with_the_public_key(m: Material) -> str:
    """The classic algorithm confusion: HMAC keyed with the RSA public key a verifier holds."""
    signing_input = f"{b64({'alg': 'HS256', 'kid': m.kid, 'typ': 'JWT'})}.{b64(claims_of(m.access))}"
    signature = hmac.new(m.public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def unsigned(m: Material, alg: str) -> str:
    return f"{b64({'alg': alg, 'kid': m.kid, 'typ': 'JWT'})}.{b64(claims_of(m.access))}."


def embedded_jwk(m: Material) -> str:
    """The attacker's public key embedded in the header (``jwk``), signed by the attacker."""
    public = json.loads(RSAAlgorithm.to_jwk(ATTACKER_KEY.public_key()))
    return jwt.encode(claims_of(m.access), ATTACKER_KEY, "RS256", headers={"kid": m.kid, "jwk": public})


def tampered(m: Material) -> str:
    header, _payload, signature = m.access.split(".")
    return ".".join([header, b64({**claims_of(m.access), "sub": "admin", "username": "admin"}), signature])


#: (case, the Authorization header -- None: none sent --, local reason fragment; "": no token)
ATTACKS: list[tuple[str, Callable[[Material], str | None], str]] = [
    ("no Authorization header", lambda m: None, ""),
    ("empty Authorization header", lambda m: "", ""),
    ("Bearer and nothing", lambda m: "Bearer ", ""),
    ("Bearer with garbage", lambda m: "Bearer garbage", "not a valid JWT"),
    ("three garbage segments", lambda m: "Bearer a.b.c", "not a valid JWT"),
    ("a valid token with a fourth segment", lambda m: f"Bearer {m.access}.x", "not a valid JWT"),
    ("alg none", lambda m: unsigned(m, "none"), "algorithm 'none'"),
    ("alg None", lambda m: unsigned(m, "None"), "algorithm 'None'"),
    ("HS256 signed with the pool's public key", hs256_with_the_public_key, "algorithm 'HS256'"),
    (
        "RS256 by another key with the pool's kid",
        lambda m: jwt.encode(claims_of(m.access), ATTACKER_KEY, "RS256", headers={"kid": m.kid}),
        "signature",
    ),
    (
        "another key named by jku",
        lambda m: jwt.encode(
            claims_of(m.access),
            ATTACKER_KEY,
            "RS256",
            headers={"kid": "attacker", "jku": "http://127.0.0.1:9/jwks.json"},
        ),
        "kid",
    ),
    ("another key embedded as jwk", embedded_jwk, "signature"),
    ("tampered payload (sub: admin)", tampered, "signature"),
    ("expired (signed by the issuer)", lambda m: m.signed(expired(m.access)), "expired"),
    (
        "not valid yet: nbf in the future (signed by the issuer)",
        lambda m: m.changed(nbf=int(time.time()) + 600),
        "not valid yet",
    ),
    (
        "issued in the future: iat (signed by the issuer)",
        lambda m: m.changed(iat=int(time.time()) + 600),
        "not valid yet",
    ),
    ("no exp (signed by the issuer)", lambda m: m.changed(exp=None), "exp"),
    (
        "wrong issuer (signed by the issuer)",
        lambda m: m.changed(iss=claims_of(m.access)["iss"] + "x"),
        "issuer",
    ),
    ("wrong client_id (signed by the issuer)", lambda m: m.changed(client_id="another-client"), "audience"),
    ("no client_id nor aud (signed by the issuer)", lambda m: m.changed(client_id=None), "audience"),
    ("real access token of another app client", lambda m: m.other_client_access, "audience"),
    ("real ID token of another app client", lambda m: m.other_client_id_token, "audience"),
    ("real access token of another user pool", lambda m: m.other_pool_access, "issuer"),
    (
        "deleted user's token after expiry (signed by the issuer)",
        lambda m: m.signed(expired(m.deleted_user_access)),
        "expired",
    ),
    (
        "disabled user's token after expiry (signed by the issuer)",
        lambda m: m.signed(expired(m.disabled_user_access)),
        "expired",
    ),
]


def put_pet(api: str, authorization: str | None) -> tuple[str, requests.Response]:
    url = f"{api}/pets/{unique('attack')}"
    headers = {} if authorization is None else {"Authorization": authorization}
    return url, requests.put(url, json=PET, headers=headers, timeout=TIMEOUT)


@pytest.mark.parametrize(("case", "make", "reason"), ATTACKS, ids=[case for case, _, _ in ATTACKS])
def test_attack_is_refused_and_writes_nothing(
    api: str, material: Material, case: str, make: Callable[[Material], str | None], reason: str
) -> None:
    url, response = put_pet(api, make(material))
    assert response.status_code == 401, (case, response.status_code, response.text)
    assert response.json() == {"message": "Unauthorized"}
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), challenge
    if not E2E_CONFIG_URL:  # the local authorizer says why, in API Gateway's header format
        assert reason in challenge if reason else challenge == "Bearer", (case, challenge)
    assert requests.get(url, timeout=TIMEOUT).status_code == 404


def test_a_token_signed_by_the_issuer_with_right_claims_is_accepted(api: str, material: Material) -> None:
    """Positive control: "signed by the issuer" really is the issuer's key, so each case above is
    refused for the one thing it changes, not for its signature."""
    if E2E_CONFIG_URL:
        pytest.skip("a deployed pool's signing key is secret")
    _url, response = put_pet(api, f"Bearer {material.signed(claims_of(material.access))}")
    assert response.status_code == 201, response.text


def test_the_token_in_the_query_string_is_not_read(api: str, material: Material) -> None:
    """The identity source is the Authorization header only."""
    url = f"{api}/pets/{unique('query')}"
    response = requests.put(url, params={"access_token": material.access}, json=PET, timeout=TIMEOUT)
    assert response.status_code == 401


def test_every_write_route_needs_a_token(api: str, stack_config: dict[str, Any]) -> None:
    for method, path in [
        ("PUT", "/pets/x"),
        ("DELETE", "/pets/x"),
        ("PUT", "/foods/x"),
        ("DELETE", "/foods/x"),
        ("POST", "/comments"),
        ("DELETE", "/comments/x/y"),
        ("POST", "/pets/x/photos"),
        ("DELETE", "/pets/x/photos/y"),
        ("GET", "/me"),
        ("PUT", "/me"),
    ]:
        response = requests.request(method, api + path, json={}, timeout=TIMEOUT)
        assert response.status_code == 401, (method, path)
        assert response.json() == {"message": "Unauthorized"}


# ---------------------------------------------------------------------- documented behaviour
def test_an_id_token_of_the_app_client_is_refused_for_its_missing_scope(api: str, material: Material) -> None:
    """Every guarded route names the access-token scope: an ID token (valid signature, ``aud`` the
    app client) has no scope, and API Gateway answers 403 before any code runs."""
    url, response = put_pet(api, f"Bearer {material.id_token}")
    assert response.status_code == 403, response.text
    assert response.json() == {"message": "Forbidden"}
    assert requests.get(url, timeout=TIMEOUT).status_code == 404


def test_documented_a_disabled_or_deleted_users_unexpired_token_is_still_accepted(
    api: str, material: Material
) -> None:
    """Offline verification: revoking a user takes effect when their access token expires."""
    for token in (material.deleted_user_access, material.disabled_user_access):
        _url, response = put_pet(api, f"Bearer {token}")
        assert response.status_code == 201, response.text
