"""Verifies an access token the way another service would, from UContact's discovery document
alone (docs/API.md, "Signing keys"): `{issuer}/.well-known/openid-configuration` -> `jwks_uri`,
then two independent libraries, PyJWT (PyJWKClient) and Authlib's jose, each checking the
signature, `iss`, `aud` and the registered claims.

    python verify_from_discovery.py ISSUER AUDIENCE TOKEN

Prints {"pyjwt": claims, "authlib": claims, "alg": ...} and exits 0, or names the failure and
exits 1. Run by tests/contract/verifiers.rs for every JWT_ALGORITHM on both stores."""

import json
import sys
import urllib.request

import jwt
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.jose.errors import JoseError

REQUIRED = ["exp", "iat", "iss", "aud", "sub", "jti"]


def fetch(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def main() -> int:
    issuer, audience, token = sys.argv[1:4]
    discovery = fetch(issuer + "/.well-known/openid-configuration")
    if discovery["issuer"] != issuer:
        print(f"discovery names issuer {discovery['issuer']!r}, not {issuer!r}", file=sys.stderr)
        return 1
    algorithms = discovery["id_token_signing_alg_values_supported"]
    alg = jwt.get_unverified_header(token)["alg"]

    try:
        key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token)
        by_pyjwt = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=audience,
            issuer=discovery["issuer"],
            options={"require": REQUIRED},
        )
    except jwt.PyJWTError as error:
        print(f"PyJWT refused the token: {error!r}", file=sys.stderr)
        return 1

    try:
        keys = JsonWebKey.import_key_set(fetch(discovery["jwks_uri"]))
        claims = JsonWebToken(algorithms).decode(
            token,
            keys,
            claims_options={
                "iss": {"essential": True, "value": discovery["issuer"]},
                "aud": {"essential": True, "value": audience},
                **{name: {"essential": True} for name in ("exp", "iat", "sub", "jti")},
            },
        )
        claims.validate()
    except JoseError as error:
        print(f"Authlib refused the token: {error!r}", file=sys.stderr)
        return 1

    print(json.dumps({"alg": alg, "pyjwt": by_pyjwt, "authlib": dict(claims)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
