"""An access token verified by an independent library (PyJWT, from PyPI) with nothing but
`GET /.well-known/jwks.json`: what another service does (docs/API.md, "Signing keys"). Each
forgery is refused by the server, and the JWKS does not verify a refresh or a reset token."""

import base64
import hashlib
import hmac
import json
import urllib.parse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from localserver import PASSWORD


def login(server, username: str) -> dict:
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
    status, text = server.request("POST", "/api/auth/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, (status, text)
    return json.loads(text)


def me(server, token: str) -> int:
    status, _ = server.request("GET", "/api/users/me", headers={"Authorization": f"Bearer {token}"})
    return status


def test_pyjwt_verifies_access_tokens_with_the_jwks_alone(server):
    server.verified_user("interop", "interop@example.com")
    tokens = login(server, "interop")

    status, body = server.request("GET", "/.well-known/jwks.json")
    assert status == 200, body
    jwks = jwt.PyJWKSet.from_dict(json.loads(body))
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "EdDSA"
    key = next(k for k in jwks.keys if k.key_id == header["kid"])

    claims = jwt.decode(
        tokens["access_token"],
        key=key,
        algorithms=["EdDSA"],
        audience="ucontact",
        issuer=server.base,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )
    assert claims["typ"] == "access"

    # Not an access token to an outside verifier: the refresh token's audience differs.
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(tokens["refresh_token"], key=key, algorithms=["EdDSA"], audience="ucontact", issuer=server.base)
    # Another issuer is refused too.
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(tokens["access_token"], key=key, algorithms=["EdDSA"], audience="ucontact", issuer="https://elsewhere")


def test_forgeries_made_with_pyjwt_are_refused(server):
    server.verified_user("victim", "victim@example.com")
    genuine = login(server, "victim")["access_token"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    kid = jwt.get_unverified_header(genuine)["kid"]
    status, body = server.request("GET", "/.well-known/jwks.json")
    public_x = json.loads(body)["keys"][0]["x"]
    attacker = Ed25519PrivateKey.generate()

    forgeries = {
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": kid}),
        "attacker's key under the real kid": jwt.encode(claims, attacker, algorithm="EdDSA", headers={"kid": kid}),
        "unknown kid": jwt.encode(claims, attacker, algorithm="EdDSA", headers={"kid": "attacker"}),
        "jku": jwt.encode(claims, attacker, algorithm="EdDSA", headers={"kid": kid, "jku": "https://attacker.example/jwks"}),
        "embedded jwk": jwt.encode(
            claims,
            attacker,
            algorithm="EdDSA",
            headers={"kid": kid, "jwk": json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(attacker.public_key()))},
        ),
    }
    # HS256 keyed with the public key: PyJWT itself refuses to make this one (it knows the attack),
    # so sign it by hand.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + b64(json.dumps(claims).encode())
    for secret in (public_x.encode(), base64.urlsafe_b64decode(public_x + "==")):
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        forgeries[f"HS256 keyed with the public key ({len(secret)} bytes)"] = signing_input + "." + b64(signature)

    for case, token in forgeries.items():
        assert me(server, token) == 401, case
    assert me(server, genuine) == 200
