"""The passkey scenarios of docs/API.md ("Second factors and passkeys"), run from outside against
a live server with the software passkey of soft_authenticator.py, as a browser would.

    python passkey_flows.py SCENARIO CONTEXT_JSON

CONTEXT_JSON: {"base": "http://127.0.0.1:PORT", "origin": "http://localhost:PORT",
"users": [{"id", "username", "email", "password", "access", "refresh"}, ...],
"state": "/path/to/a/file" (scenarios in several steps keep their passkeys there)}.

Prints a JSON result on stdout and exits 0; on the first failed check it names it on stderr and
exits 1. Run by tests/contract/passkeys.rs, one scenario per test, on both stores."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import cbor2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from soft_authenticator import (
    EDDSA,
    ES256,
    RS256,
    Authenticator,
    b64url,
    unb64url,
)

INVALID = "Invalid passkey"
NOT_FOUND = "Passkey not found"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ALGORITHMS = {"ES256": ES256, "EdDSA": EDDSA}


class Failed(Exception):
    """A contract check that did not hold."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


@dataclass
class Answer:
    method: str
    path: str
    status: int
    headers: dict
    text: str

    def json(self):
        try:
            return json.loads(self.text)
        except ValueError as error:
            raise Failed(f"{self}: not JSON ({error})") from None

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status} {self.text[:500]}"


class Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        # Straight to the server, whatever proxy the environment names.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def send(self, method: str, path: str, body=None, token: str | None = None) -> Answer:
        headers = {"User-Agent": "ucontact-tests/passkeys"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                status, raw, head = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, head = error.code, error.read(), error.headers
        headers = {k.lower(): v for k, v in head.items()}
        return Answer(method, path, status, headers, raw.decode("utf-8", "replace"))

    # the routes of the section
    def register_options(self, token: str | None) -> Answer:
        return self.send("POST", "/api/users/me/passkeys/options", {}, token)

    def register(self, token: str, challenge_token: str, credential: dict, **extra) -> Answer:
        body = {"challenge_token": challenge_token, "credential": credential, **extra}
        return self.send("POST", "/api/users/me/passkeys", body, token)

    def passkeys(self, token: str) -> list:
        answer = self.send("GET", "/api/users/me/passkeys", token=token)
        check(answer.status == 200, f"list-passkeys: {answer}")
        listed = answer.json()
        check(isinstance(listed, list), f"list-passkeys is no list: {answer}")
        for passkey in listed:
            check_passkey_shape(passkey, f"list-passkeys: {answer}")
        return listed

    def delete(self, token: str, passkey_id: str) -> Answer:
        return self.send("DELETE", f"/api/users/me/passkeys/{passkey_id}", token=token)

    def mfa(self, token: str) -> dict:
        answer = self.send("GET", "/api/users/me/mfa", token=token)
        check(answer.status == 200, f"mfa-status: {answer}")
        return answer.json()

    def login_options(self) -> Answer:
        return self.send("POST", "/api/auth/passkey/options", {})

    def login(self, challenge_token: str, credential: dict) -> Answer:
        body = {"challenge_token": challenge_token, "credential": credential}
        return self.send("POST", "/api/auth/passkey/login", body)


# --------------------------------------------------------------------------------------------
# Contract checks shared by the scenarios
# --------------------------------------------------------------------------------------------


def check_passkey_shape(passkey, where: str) -> None:
    check(isinstance(passkey, dict), f"a passkey is no object: {where}")
    check(
        set(passkey) == {"id", "name", "created_at", "last_used_at"},
        f"a passkey has other fields than id, name, created_at, last_used_at: {where}",
    )
    check(isinstance(passkey["id"], str) and passkey["id"], f"id: {where}")
    check(isinstance(passkey["name"], str) and passkey["name"], f"name: {where}")
    check(
        isinstance(passkey["created_at"], str) and TIMESTAMP.match(passkey["created_at"]),
        f"created_at is not ISO 8601 UTC like 2025-04-16T12:00:00Z: {where}",
    )
    last = passkey["last_used_at"]
    check(
        last is None or (isinstance(last, str) and TIMESTAMP.match(last)),
        f"last_used_at is neither null nor a timestamp: {where}",
    )


def expect_detail(answer: Answer, status: int, detail: str, what: str) -> None:
    check(
        answer.status == status and answer.json() == {"detail": detail},
        f"{what}: expected {status} {{'detail': {detail!r}}}, got {answer}",
    )


def expect_registration_refused(answer: Answer, what: str) -> None:
    expect_detail(answer, 400, INVALID, what)
    log(f"ok {what}: 400 Invalid passkey")


def expect_login_refused(answer: Answer, what: str) -> None:
    expect_detail(answer, 401, INVALID, what)
    challenge = answer.headers.get("www-authenticate", "")
    check(
        challenge.split(" ")[0].lower() == "bearer",
        f"{what}: a 401 without WWW-Authenticate: Bearer (got {challenge!r})",
    )
    log(f"ok {what}: 401 Invalid passkey")


def check_registered(answer: Answer, name: str, what: str) -> dict:
    check(answer.status == 201, f"{what}: expected 201, got {answer}")
    passkey = answer.json()
    check_passkey_shape(passkey, f"{what}: {answer}")
    check(passkey["name"] == name, f"{what}: name {passkey['name']!r}, expected {name!r}")
    check(passkey["last_used_at"] is None, f"{what}: last_used_at of a new passkey: {answer}")
    return passkey


def claims(token: str) -> dict:
    return json.loads(unb64url(token.split(".")[1]))


def check_login_pair(answer: Answer, user: dict, what: str) -> dict:
    check(answer.status == 200, f"{what}: expected 200, got {answer}")
    pair = answer.json()
    check(
        isinstance(pair.get("access_token"), str)
        and isinstance(pair.get("refresh_token"), str)
        and pair.get("token_type") == "bearer",
        f"{what}: not a login pair {{access_token, refresh_token, token_type: bearer}}: {answer}",
    )
    access = claims(pair["access_token"])
    check(access.get("amr") == ["hwk", "user"], f"{what}: amr {access.get('amr')!r}")
    check(
        access.get("sub") == str(user["id"]),
        f"{what}: logged in as sub {access.get('sub')!r}, expected user {user['id']}",
    )
    return pair


# --------------------------------------------------------------------------------------------
# Ceremonies
# --------------------------------------------------------------------------------------------


class Flows:
    def __init__(self, context: dict) -> None:
        self.api = Api(context["base"])
        self.origin = context["origin"]
        self.port = urlsplit(self.origin).port
        self.users = context["users"]
        self.state_path = context.get("state")
        self.result: dict = {}

    # state across steps

    def load(self) -> dict:
        data = json.loads(Path(self.state_path).read_text())
        data["authenticators"] = {
            k: Authenticator.from_json(v) for k, v in data["authenticators"].items()
        }
        return data

    def save(self, authenticators: dict, **rest) -> None:
        data = {"authenticators": {k: v.to_json() for k, v in authenticators.items()}, **rest}
        Path(self.state_path).write_text(json.dumps(data))

    # registration

    def register_options(self, user: dict) -> dict:
        answer = self.api.register_options(user["access"])
        check(answer.status == 200, f"passkey-register-options for {user['username']}: {answer}")
        body = answer.json()
        check(
            set(body) == {"publicKey", "challenge_token"}
            and isinstance(body["challenge_token"], str)
            and body["challenge_token"],
            f"passkey-register-options: not {{publicKey, challenge_token}}: {answer}",
        )
        return body

    def add_passkey(
        self, user: dict, auth: Authenticator, what: str, *, name: str | None = None, **knobs
    ) -> dict:
        """A registration that must work; returns the created passkey (and its credential id
        as `credential_id`)."""
        options = self.register_options(user)
        credential = auth.create(options["publicKey"], self.origin, **knobs)
        extra = {} if name is None else {"name": name}
        answer = self.api.register(user["access"], options["challenge_token"], credential, **extra)
        passkey = check_registered(answer, name or "Passkey", what)
        log(f"ok {what}: 201 {passkey['id']}")
        return {**passkey, "credential_id": credential["id"]}

    def refused_registration(
        self, user: dict, auth: Authenticator, what: str, *, origin: str | None = None, **knobs
    ) -> None:
        options = self.register_options(user)
        credential = auth.create(options["publicKey"], origin or self.origin, **knobs)
        answer = self.api.register(user["access"], options["challenge_token"], credential)
        expect_registration_refused(answer, what)

    # login

    def login_options(self) -> dict:
        answer = self.api.login_options()
        check(answer.status == 200, f"passkey-login-options: {answer}")
        body = answer.json()
        check(
            set(body) == {"publicKey", "challenge_token"}
            and isinstance(body["challenge_token"], str)
            and body["challenge_token"],
            f"passkey-login-options: not {{publicKey, challenge_token}}: {answer}",
        )
        return body

    def log_in(self, auth: Authenticator, user: dict, what: str, **knobs) -> dict:
        options = self.login_options()
        credential = auth.get(options["publicKey"], self.origin, **knobs)
        pair = check_login_pair(self.api.login(options["challenge_token"], credential), user, what)
        log(f"ok {what}: 200, amr hwk+user, sub {user['id']}")
        return pair

    def refused_login(
        self, auth: Authenticator, what: str, *, origin: str | None = None, **knobs
    ) -> None:
        options = self.login_options()
        credential = auth.get(options["publicKey"], origin or self.origin, **knobs)
        expect_login_refused(self.api.login(options["challenge_token"], credential), what)

    def wrong_origins(self) -> list:
        return [
            f"http://evil.example:{self.port}",
            f"https://localhost:{self.port}",
            f"http://localhost:{self.port + 1 if self.port < 65535 else self.port - 1}",
            "http://localhost",
        ]


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

SCENARIOS = {}


def scenario(name: str):
    def register(function):
        SCENARIOS[name] = function
        return function

    return register


def check_creation_options(options: dict, user: dict) -> bytes:
    """PublicKeyCredentialCreationOptionsJSON as the contract fixes it; returns the user handle."""
    public_key = options["publicKey"]
    where = json.dumps(public_key)
    rp = public_key.get("rp") or {}
    check(rp.get("id") == "localhost", f"rp.id is not 'localhost': {where}")
    check(
        isinstance(rp.get("name"), str) and rp["name"], f"rp.name (WebAuthn requires it): {where}"
    )
    person = public_key.get("user") or {}
    check(isinstance(person.get("id"), str), f"user.id is no string: {where}")
    check(
        re.fullmatch(r"[A-Za-z0-9_-]+", person["id"]) is not None,
        f"user.id is not base64url: {where}",
    )
    handle = unb64url(person["id"])
    check(16 <= len(handle) <= 64, f"user.id: {len(handle)} bytes, not a 16-64 byte random handle")
    number = str(user["id"])
    check(
        person["id"] != number
        and handle != number.encode()
        and handle.lstrip(b"\0") != int(user["id"]).to_bytes(8, "big").lstrip(b"\0")
        and handle.rstrip(b"\0") != int(user["id"]).to_bytes(8, "little").rstrip(b"\0"),
        f"user.id is the integer id of the user: {where}",
    )
    username = user["username"].encode()
    check(
        person["id"] != user["username"]
        and not handle.startswith(username)
        and not handle.endswith(username)
        and handle != hashlib.sha256(username).digest(),
        f"user.id is made of the username: {where}",
    )
    for field in ("name", "displayName"):
        check(isinstance(person.get(field), str), f"user.{field} (WebAuthn requires it): {where}")
    challenge = public_key.get("challenge")
    check(
        isinstance(challenge, str) and len(unb64url(challenge)) >= 16,
        f"challenge: not 16+ bytes of base64url: {where}",
    )
    params = public_key.get("pubKeyCredParams") or []
    check(
        all(p.get("type") == "public-key" and isinstance(p.get("alg"), int) for p in params),
        f"pubKeyCredParams: {where}",
    )
    algs = {p["alg"] for p in params}
    check({ES256, EDDSA, RS256} <= algs, f"pubKeyCredParams lacks ES256, EdDSA or RS256: {where}")
    selection = public_key.get("authenticatorSelection") or {}
    check(selection.get("residentKey") == "required", f"residentKey is not required: {where}")
    check(
        selection.get("requireResidentKey", True) is True,
        f"requireResidentKey contradicts residentKey required: {where}",
    )
    check(
        selection.get("userVerification") == "required",
        f"authenticatorSelection.userVerification is not required: {where}",
    )
    check(public_key.get("attestation") == "none", f"attestation is not 'none': {where}")
    return handle


def excluded_ids(options: dict) -> list:
    excluded = options["publicKey"].get("excludeCredentials") or []
    for item in excluded:
        check(item.get("type") == "public-key", f"excludeCredentials item {item}")
    return sorted(b64url(unb64url(item["id"])) for item in excluded)


@scenario("registration-options")
def registration_options(f: Flows) -> None:
    alice, bob = f.users[:2]
    answer = f.api.register_options(None)
    expect_detail(answer, 401, "Not authenticated", "options without a Bearer token")
    answer = f.api.send("POST", "/api/users/me/passkeys/options", None, alice["access"])
    check(answer.status == 200, f"options with no body at all: {answer}")

    first = f.register_options(alice)
    handle = check_creation_options(first, alice)
    check(excluded_ids(first) == [], f"excludeCredentials before any passkey: {first}")
    second = f.register_options(alice)
    check_creation_options(second, alice)
    check(
        unb64url(second["publicKey"]["user"]["id"]) == handle,
        "user.id changes between two options calls of one user",
    )
    check(
        second["publicKey"]["challenge"] != first["publicKey"]["challenge"]
        and second["challenge_token"] != first["challenge_token"],
        "two options calls share a challenge",
    )
    bobs = f.register_options(bob)
    bob_handle = check_creation_options(bobs, bob)
    check(bob_handle != handle, "two users share a user handle")
    log("ok options: rp localhost, random stable user handle, resident key and UV required")

    laptop = f.add_passkey(alice, Authenticator(), "a first passkey")
    after = f.register_options(alice)
    check(
        excluded_ids(after) == [laptop["credential_id"]],
        f"excludeCredentials is not the user's passkey {laptop['credential_id']}: {after}",
    )
    phone = f.add_passkey(alice, Authenticator(), "a second passkey", name="Phone")
    after = f.register_options(alice)
    check(
        excluded_ids(after) == sorted([laptop["credential_id"], phone["credential_id"]]),
        f"excludeCredentials is not both passkeys: {after}",
    )
    check(excluded_ids(f.register_options(bob)) == [], "bob's options exclude alice's passkeys")
    log("ok excludeCredentials lists exactly the user's passkeys")


@scenario("happy-path")
def happy_path(f: Flows, alg_name: str) -> None:
    (alice,) = f.users[:1]
    alg = ALGORITHMS[alg_name]
    auth = Authenticator(alg=alg)
    passkey = f.add_passkey(alice, auth, f"{alg_name}: register")
    listed = f.api.passkeys(alice["access"])
    expected = {k: v for k, v in passkey.items() if k != "credential_id"}
    check(listed == [expected], f"list-passkeys {listed} is not [{expected}]")
    status = f.api.mfa(alice["access"])
    check(status.get("passkeys") == 1, f"mfa-status passkeys is not 1: {status}")
    check(status.get("totp") is False, f"mfa-status totp: {status}")

    options = f.login_options()
    request = options["publicKey"]
    check(request.get("rpId") == "localhost", f"login rpId is not localhost: {request}")
    check(not request.get("allowCredentials"), f"login allowCredentials not empty: {request}")
    check(request.get("userVerification") == "required", f"login UV not required: {request}")
    check(len(unb64url(request["challenge"])) >= 16, f"login challenge: {request}")
    other = f.login_options()
    check(
        other["publicKey"]["challenge"] != request["challenge"]
        and other["challenge_token"] != options["challenge_token"],
        "two login options share a challenge",
    )
    stale = auth.clone()
    credential = auth.get(request, f.origin)
    pair = check_login_pair(
        f.api.login(options["challenge_token"], credential), alice, f"{alg_name}: log in"
    )
    log(f"ok {alg_name}: passkey login 200, amr hwk+user")

    me = f.api.send("GET", "/api/users/me", token=pair["access_token"])
    check(me.status == 200 and me.json().get("username") == alice["username"], f"me: {me}")
    refreshed = f.api.send(
        "POST", "/api/auth/refresh-token", {"refresh_token": pair["refresh_token"]}
    )
    check(refreshed.status == 200, f"refresh of a passkey session: {refreshed}")
    check(
        claims(refreshed.json()["access_token"]).get("amr") == ["hwk", "user"],
        f"a refresh does not keep amr hwk+user: {refreshed}",
    )
    log("ok a refresh keeps amr hwk+user")
    sessions = f.api.send("GET", "/api/users/me/sessions", token=refreshed.json()["access_token"])
    check(sessions.status == 200, f"list-sessions: {sessions}")
    listed = sorted((bool(s.get("current")), s.get("amr")) for s in sessions.json())
    check(
        listed == [(False, ["pwd"]), (True, ["hwk", "user"])],
        f"list-sessions: not the password session (pwd) and the passkey one (hwk, user, current):"
        f" {sessions}",
    )
    log("ok list-sessions shows amr hwk+user on the passkey session, pwd on the other")

    used = f.api.passkeys(alice["access"])
    check(
        len(used) == 1
        and used[0]["created_at"] == passkey["created_at"]
        and used[0]["last_used_at"] is not None,
        f"after a login last_used_at is still null: {used}",
    )
    f.log_in(auth, alice, f"{alg_name}: a second login (counter grows)")

    # A second passkey, from another device, named: newest first.
    laptop = f.add_passkey(alice, Authenticator(alg=alg), f"{alg_name}: second", name="Laptop")
    listed = f.api.passkeys(alice["access"])
    check(
        [p["id"] for p in listed] == [laptop["id"], passkey["id"]],
        f"list-passkeys is not newest first: {listed}",
    )
    check(f.api.mfa(alice["access"]).get("passkeys") == 2, "mfa-status does not count 2")
    f.log_in(auth, alice, f"{alg_name}: the first passkey still logs in")

    # The signature is checked, with this algorithm's key, and the counter too.
    options = f.login_options()
    credential = auth.clone().get(options["publicKey"], f.origin)
    credential["response"]["signature"] = flip(credential["response"]["signature"])
    expect_login_refused(
        f.api.login(options["challenge_token"], credential), f"{alg_name}: a tampered signature"
    )
    forger = Authenticator(alg=alg)
    forger.forge(auth.credentials[0])
    f.refused_login(forger, f"{alg_name}: the credential id and handle, another {alg_name} key")
    f.refused_login(stale, f"{alg_name}: a copy whose counter fell behind")
    f.result = {"passkeys": [passkey["id"], laptop["id"]]}


@scenario("happy-path-ES256")
def happy_path_es256(f: Flows) -> None:
    happy_path(f, "ES256")


@scenario("happy-path-EdDSA")
def happy_path_eddsa(f: Flows) -> None:
    happy_path(f, "EdDSA")


@scenario("names")
def names(f: Flows) -> None:
    (alice,) = f.users[:1]
    for name, what in [("", "an empty name"), ("x" * 65, "a 65-character name")]:
        options = f.register_options(alice)
        credential = Authenticator().create(options["publicKey"], f.origin)
        answer = f.api.register(alice["access"], options["challenge_token"], credential, name=name)
        check(answer.status == 422, f"{what}: expected 422, got {answer}")
        issues = answer.json().get("detail")
        check(
            isinstance(issues, list)
            and any((i.get("loc") or [None])[-1] == "name" for i in issues),
            f"{what}: the 422 does not name the field name: {answer}",
        )
        log(f"ok {what}: 422 on name")
    check(f.api.passkeys(alice["access"]) == [], "a refused name left a passkey")
    f.add_passkey(alice, Authenticator(), "a 64-character name", name="x" * 64)
    # Characters, not bytes: 64 two-byte characters are 128 bytes of UTF-8.
    f.add_passkey(alice, Authenticator(), "64 non-ASCII characters", name="é" * 64)
    f.add_passkey(alice, Authenticator(), "a 1-character name", name="k")
    f.add_passkey(alice, Authenticator(), "no name: Passkey")


@scenario("wrong-origin")
def wrong_origin(f: Flows) -> None:
    (alice,) = f.users[:1]
    for origin in f.wrong_origins():
        f.refused_registration(
            alice, Authenticator(), f"registration from {origin}", origin=origin, unchecked=True
        )
    check(f.api.passkeys(alice["access"]) == [], "a refused registration left a passkey")
    auth = Authenticator()
    f.add_passkey(alice, auth, "registration from the right origin")
    for origin in f.wrong_origins():
        f.refused_login(auth.clone(), f"login from {origin}", origin=origin, unchecked=True)
    f.log_in(auth, alice, "login from the right origin")


@scenario("wrong-rp-id")
def wrong_rp_id(f: Flows) -> None:
    (alice,) = f.users[:1]
    for rp_id in ["evil.example", "127.0.0.1", "localhost.", "LOCALHOST"]:
        f.refused_registration(
            alice, Authenticator(), f"registration for RP id {rp_id!r}", rp_id=rp_id
        )
    check(f.api.passkeys(alice["access"]) == [], "a refused registration left a passkey")
    auth = Authenticator()
    f.add_passkey(alice, auth, "registration for RP id localhost")
    for rp_id in ["evil.example", "127.0.0.1", "localhost.", "LOCALHOST"]:
        f.refused_login(auth.clone(), f"login for RP id {rp_id!r}", rp_id=rp_id)
    f.log_in(auth, alice, "login for RP id localhost")


@scenario("no-user-verification")
def no_user_verification(f: Flows) -> None:
    (alice,) = f.users[:1]
    f.refused_registration(alice, Authenticator(uv=False), "registration without UV")
    check(f.api.passkeys(alice["access"]) == [], "a refused registration left a passkey")
    auth = Authenticator()
    f.add_passkey(alice, auth, "registration with UV")
    f.refused_login(auth.clone(), "login without UV", uv=False)
    f.log_in(auth, alice, "login with UV")


def flip(text: str, at: int = -1, mask: int = 0x01) -> str:
    """base64url `text` with bits `mask` of byte `at` flipped."""
    raw = bytearray(unb64url(text))
    raw[at] ^= mask
    return b64url(bytes(raw))


def tamper_token(token: str) -> str:
    """An opaque token with one character changed, away from its ends (where base64 padding
    bits may hide a change)."""
    at = next(i for i in range(len(token) // 2, len(token)) if token[i].isalnum())
    return token[:at] + ("B" if token[at] == "A" else "A") + token[at + 1 :]


def refmt(attestation: str, fmt: str) -> str:
    """The attestation object with another `fmt` and its (empty) statement kept."""
    decoded = cbor2.loads(unb64url(attestation))
    return b64url(cbor2.dumps({**decoded, "fmt": fmt}, canonical=True))


def with_client_data(credential: dict, **changes) -> None:
    """Rewrites clientDataJSON (after the authenticator signed, or for an unsigned create)."""
    data = json.loads(unb64url(credential["response"]["clientDataJSON"]))
    credential["response"]["clientDataJSON"] = b64url(json.dumps({**data, **changes}).encode())


@scenario("tampered-credential")
def tampered_credential(f: Flows) -> None:
    (alice,) = f.users[:1]
    cases = {
        "a truncated attestationObject": lambda c: c["response"].update(
            attestationObject=b64url(unb64url(c["response"]["attestationObject"])[:40])
        ),
        "an attestationObject of random bytes": lambda c: c["response"].update(
            attestationObject=b64url(os.urandom(200))
        ),
        "clientDataJSON of another challenge": lambda c: with_client_data(
            c, challenge=b64url(os.urandom(32))
        ),
        "clientDataJSON of type webauthn.get": lambda c: with_client_data(c, type="webauthn.get"),
        "an attestation format the server cannot check (packed, no statement)": lambda c: c[
            "response"
        ].update(attestationObject=refmt(c["response"]["attestationObject"], "packed")),
        "clientDataJSON of another origin": lambda c: with_client_data(
            c, origin="http://evil.example"
        ),
        "clientDataJSON from a cross-origin iframe": lambda c: with_client_data(
            c, crossOrigin=True
        ),
    }
    for what, change in cases.items():
        options = f.register_options(alice)
        credential = Authenticator().create(options["publicKey"], f.origin)
        change(credential)
        answer = f.api.register(alice["access"], options["challenge_token"], credential)
        expect_registration_refused(answer, f"registration with {what}")
    check(f.api.passkeys(alice["access"]) == [], "a refused registration left a passkey")

    auth = Authenticator()
    f.add_passkey(alice, auth, "an untampered registration")
    login_cases = {
        "a tampered signature": lambda c: c["response"].update(
            signature=flip(c["response"]["signature"])
        ),
        "UV set after signing": lambda c: c["response"].update(
            authenticatorData=flip(c["response"]["authenticatorData"], 32, 0x04)
        ),
        "a counter changed after signing": lambda c: c["response"].update(
            authenticatorData=flip(c["response"]["authenticatorData"], 35, 0x01)
        ),
        "the RP id hash changed after signing": lambda c: c["response"].update(
            authenticatorData=flip(c["response"]["authenticatorData"], 0, 0x01)
        ),
        "another challenge in clientDataJSON (after signing)": lambda c: with_client_data(
            c, challenge=b64url(os.urandom(32))
        ),
        "clientDataJSON of type webauthn.create (re-signed)": None,
        "a truncated authenticatorData": lambda c: c["response"].update(
            authenticatorData=b64url(unb64url(c["response"]["authenticatorData"])[:20])
        ),
        "an unknown credential id": lambda c: c.update(id=flip(c["id"]), rawId=flip(c["rawId"])),
    }
    for what, change in login_cases.items():
        options = f.login_options()
        uv = what != "UV set after signing"
        if change is None:
            # A genuine signature over clientDataJSON of the wrong ceremony type.
            credential = auth.clone().get(
                options["publicKey"], f.origin, client_data_type="webauthn.create"
            )
        else:
            credential = auth.clone().get(options["publicKey"], f.origin, uv=uv)
            change(credential)
        expect_login_refused(
            f.api.login(options["challenge_token"], credential), f"login with {what}"
        )
    f.log_in(auth, alice, "an untampered login")


@scenario("oversized-answers")
def oversized_answers(f: Flows) -> None:
    """A registered credential's id and user handle with 600 KB of junk authenticator data (at
    login) or attestation object (at registration): refused, and the Rust side checks that the
    server's log did not grow with them."""
    (alice,) = f.users[:1]
    auth = Authenticator()
    f.add_passkey(alice, auth, "a passkey")
    junk = b64url(b"\xff" * 600_000)
    options = f.login_options()
    credential = auth.clone().get(options["publicKey"], f.origin)
    credential["response"]["authenticatorData"] = junk
    expect_login_refused(f.api.login(options["challenge_token"], credential), "600 KB of authenticatorData")
    options = f.register_options(alice)
    credential = Authenticator().create(options["publicKey"], f.origin)
    credential["response"]["attestationObject"] = junk
    answer = f.api.register(alice["access"], options["challenge_token"], credential)
    expect_registration_refused(answer, "a 600 KB attestationObject")
    f.log_in(auth, alice, "the passkey, afterwards")


@scenario("claimed-id")
def claimed_id(f: Flows) -> None:
    """A registration whose id/rawId is not the credential id its authenticator data attests: no
    browser sends one, so it is a bad credential (an interpretation: docs/API.md lists what
    registration checks without naming this). The attested id is what a login presents."""
    (alice,) = f.users[:1]
    options = f.register_options(alice)
    auth = Authenticator()
    credential = auth.create(options["publicKey"], f.origin)
    credential["id"] = credential["rawId"] = b64url(os.urandom(32))
    expect_registration_refused(
        f.api.register(alice["access"], options["challenge_token"], credential),
        "id and rawId that differ from the attested credential id",
    )
    check(f.api.passkeys(alice["access"]) == [], "a refused registration left a passkey")


@scenario("challenge-tokens")
def challenge_tokens(f: Flows) -> None:
    alice, bob = f.users[:2]

    def register_with(token: str, credential: dict, what: str, user: dict = alice) -> None:
        expect_registration_refused(f.api.register(user["access"], token, credential), what)

    options = f.register_options(alice)
    credential = Authenticator().create(options["publicKey"], f.origin)
    register_with("not-a-challenge-token", credential, "an unknown challenge token")
    register_with(b64url(os.urandom(32)), credential, "a random challenge token")
    register_with(
        tamper_token(options["challenge_token"]), credential, "a tampered challenge token"
    )

    # Another user's challenge: bob's options, answered by bob's device, sent by alice.
    bobs = f.register_options(bob)
    credential = Authenticator().create(bobs["publicKey"], f.origin)
    register_with(bobs["challenge_token"], credential, "a challenge token of another user")

    # A login challenge for a registration, two ways.
    login = f.login_options()
    options = f.register_options(alice)
    credential = Authenticator().create(options["publicKey"], f.origin)
    register_with(
        login["challenge_token"],
        credential,
        "a login challenge token (registration's challenge signed)",
    )
    # (each attempt with challenges of its own: a refused attempt may use a token up)
    login, options = f.login_options(), f.register_options(alice)
    over_login = dict(options["publicKey"], challenge=login["publicKey"]["challenge"])
    credential = Authenticator().create(over_login, f.origin)
    register_with(login["challenge_token"], credential, "a login challenge token and its challenge")

    check(f.api.passkeys(alice["access"]) == [], "a refused registration left a passkey")
    check(f.api.passkeys(bob["access"]) == [], "bob got a passkey")

    # A used registration challenge: once only.
    options = f.register_options(alice)
    auth = Authenticator()
    credential = auth.create(options["publicKey"], f.origin)
    check_registered(
        f.api.register(alice["access"], options["challenge_token"], credential),
        "Passkey",
        "first use",
    )
    credential = Authenticator().create(options["publicKey"], f.origin)
    register_with(options["challenge_token"], credential, "a used registration challenge token")
    check(len(f.api.passkeys(alice["access"])) == 1, "a used challenge registered a second passkey")

    # A registration challenge for a login, two ways.
    options = f.register_options(alice)
    login = f.login_options()
    credential = auth.clone().get(login["publicKey"], f.origin)
    expect_login_refused(
        f.api.login(options["challenge_token"], credential),
        "a registration challenge token (login's challenge signed)",
    )
    options, login = f.register_options(alice), f.login_options()
    over_registration = dict(login["publicKey"], challenge=options["publicKey"]["challenge"])
    credential = auth.clone().get(over_registration, f.origin)
    expect_login_refused(
        f.api.login(options["challenge_token"], credential),
        "a registration challenge token and its challenge",
    )
    for token, what in [
        ("not-a-challenge-token", "an unknown login challenge token"),
        (b64url(os.urandom(32)), "a random login challenge token"),
    ]:
        login = f.login_options()
        credential = auth.clone().get(login["publicKey"], f.origin)
        expect_login_refused(f.api.login(token, credential), what)
    # Another login's challenge token: each token is bound to its own challenge.
    first, second = f.login_options(), f.login_options()
    credential = auth.clone().get(first["publicKey"], f.origin)
    expect_login_refused(
        f.api.login(second["challenge_token"], credential), "another login's challenge token"
    )
    f.log_in(auth, alice, "the right challenge token")


@scenario("replayed-login")
def replayed_login(f: Flows) -> None:
    (alice,) = f.users[:1]
    # Without a counter only the challenge's single use tells a replay (with one, the counter
    # would refuse it too).
    for label, auth in [
        ("no counter", Authenticator(keeps_counter=False)),
        ("a counter", Authenticator(counter_start=1)),
    ]:
        f.add_passkey(alice, auth, f"{label}: register", name=label)
        options = f.login_options()
        credential = auth.get(options["publicKey"], f.origin)
        check_login_pair(
            f.api.login(options["challenge_token"], credential), alice, f"{label}: first use"
        )
        expect_login_refused(
            f.api.login(options["challenge_token"], auth.replay()),
            f"{label}: the same login replayed",
        )
        fresh = f.login_options()
        expect_login_refused(
            f.api.login(fresh["challenge_token"], auth.replay()),
            f"{label}: the same response under a fresh challenge token",
        )
        f.log_in(auth, alice, f"{label}: a fresh login")


def race(requests: list) -> list:
    """Sends every request at once (a barrier, one thread each); returns the answers in order."""
    barrier = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def run(i: int, request) -> None:
        barrier.wait()
        try:
            answers[i] = request()
        except (OSError, http.client.HTTPException) as error:  # a dropped connection
            answers[i] = error

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@scenario("concurrent-replays")
def concurrent_replays(f: Flows) -> None:
    alice, bob = f.users[:2]
    # Counter-less first: then only the challenge's single use can stop the copies.
    devices = [Authenticator(keeps_counter=False), Authenticator()]
    for i, auth in enumerate(devices):
        f.add_passkey(alice, auth, f"register device {i}", name=f"Device {i}")
    for round_ in range(4):
        auth = devices[round_ % 2]
        options = f.login_options()
        credential = auth.get(options["publicKey"], f.origin)
        send = lambda token=options["challenge_token"], c=credential: f.api.login(token, c)
        answers = race([send] * 5)
        statuses = [getattr(a, "status", repr(a)) for a in answers]
        check(
            all(isinstance(a, Answer) for a in answers) and statuses.count(200) == 1,
            f"round {round_}: one login answer replayed 5 times at once: {statuses}",
        )
        for a in answers:
            if a.status != 200:
                expect_login_refused(a, f"round {round_}: a concurrent replay")
    log("ok a login challenge is used once under concurrency")

    for round_ in range(3):
        options = f.register_options(bob)
        credentials = [Authenticator().create(options["publicKey"], f.origin) for _ in range(4)]
        token = options["challenge_token"]
        answers = race(
            [(lambda c=c, t=token: f.api.register(bob["access"], t, c)) for c in credentials]
        )
        statuses = [getattr(a, "status", repr(a)) for a in answers]
        check(
            all(isinstance(a, Answer) for a in answers) and statuses.count(201) == 1,
            f"round {round_}: one registration challenge used by 4 at once: {statuses}",
        )
        for a in answers:
            if a.status != 201:
                expect_registration_refused(a, f"round {round_}: a concurrent reuse")
    listed = f.api.passkeys(bob["access"])
    check(len(listed) == 3, f"3 rounds, 3 passkeys expected: {listed}")
    log("ok a registration challenge is used once under concurrency")


@scenario("another-users-credential")
def another_users_credential(f: Flows) -> None:
    alice, bob = f.users[:2]
    alices, bobs = Authenticator(), Authenticator(credential_id_length=16)
    alice_key = f.add_passkey(alice, alices, "alice registers")
    f.add_passkey(bob, bobs, "bob registers")
    alice_handle = alices.credentials[0].user_handle
    bob_handle = bobs.credentials[0].user_handle
    check(alice_handle != bob_handle, "two users share a user handle")

    f.refused_login(
        alices.clone(), "alice's credential with bob's user handle", user_handle=bob_handle
    )
    f.refused_login(
        bobs.clone(), "bob's credential with alice's user handle", user_handle=alice_handle
    )
    f.refused_login(
        alices.clone(), "alice's credential with a random user handle", user_handle=os.urandom(16)
    )
    f.refused_login(alices.clone(), "alice's credential with an empty user handle", user_handle=b"")

    # The user handle left out (null): a discoverable login cannot tell whose it is.
    options = f.login_options()
    credential = alices.clone().get(options["publicKey"], f.origin)
    credential["response"]["userHandle"] = None
    expect_login_refused(f.api.login(options["challenge_token"], credential), "a null user handle")

    # Alice's credential id and user handle, signed by another key (a device claiming it).
    forger = Authenticator()
    forged = forger.forge(alices.credentials[0])
    check(b64url(forged.credential_id) == alice_key["credential_id"], "forged the wrong id")
    f.refused_login(forger, "alice's credential id signed by another key")

    # A passkey made for alice but never registered.
    stray = Authenticator()
    stray.create(f.register_options(alice)["publicKey"], f.origin)
    f.refused_login(stray, "a credential that was never registered")

    f.log_in(alices, alice, "alice's own passkey")
    f.log_in(bobs, bob, "bob's own passkey")


@scenario("cloned-authenticator")
def cloned_authenticator(f: Flows) -> None:
    (alice,) = f.users[:1]
    # Backwards: the original logs in twice, then the copy presents an older counter.
    phone = Authenticator(counter_start=1)
    f.add_passkey(alice, phone, "register (counter from 1)")
    copy_ = phone.clone()
    f.log_in(phone, alice, "the original, first login")
    f.log_in(phone, alice, "the original, second login")
    f.refused_login(copy_, "the clone, its counter behind the stored one")
    # Equal: a copy made now presents the same counter the original presents next.
    laptop = Authenticator()
    f.add_passkey(alice, laptop, "register (counter from 0)", name="Laptop")
    copy_ = laptop.clone()
    f.log_in(laptop, alice, "the original")
    f.refused_login(copy_, "the clone, its counter equal to the stored one")


@scenario("counters")
def counters(f: Flows) -> None:
    (alice,) = f.users[:1]
    for label, auth in [
        ("a counter from 0", Authenticator()),
        ("a counter from 1", Authenticator(counter_start=1)),
        ("no counter (always 0)", Authenticator(keeps_counter=False)),
        ("a 16-byte credential id", Authenticator(credential_id_length=16)),
    ]:
        f.add_passkey(alice, auth, f"register with {label}", name=label[:64])
        if not auth.keeps_counter:
            counterless = auth
        for i in range(3):
            f.log_in(auth, alice, f"{label}: login {i + 1}")
    # Without a counter there is nothing to tell a copy by: it logs in (the contract checks the
    # counter only where the authenticator keeps one).
    f.log_in(counterless.clone(), alice, "a copy of a counter-less passkey")


@scenario("deleted-passkey")
def deleted_passkey(f: Flows) -> None:
    alice, bob = f.users[:2]
    alices, bobs = Authenticator(), Authenticator()
    mine = f.add_passkey(alice, alices, "alice registers")
    theirs = f.add_passkey(bob, bobs, "bob registers")

    answer = f.api.delete(alice["access"], theirs["id"])
    expect_detail(answer, 404, NOT_FOUND, "alice deletes bob's passkey")
    check(len(f.api.passkeys(bob["access"])) == 1, "bob's passkey is gone")
    f.log_in(bobs, bob, "bob's passkey after alice tried to delete it")
    for unknown in ["does-not-exist", tamper_token(mine["id"]), "0"]:
        expect_detail(
            f.api.delete(alice["access"], unknown), 404, NOT_FOUND, f"unknown id {unknown!r}"
        )
    answer = f.api.send("DELETE", f"/api/users/me/passkeys/{mine['id']}")
    expect_detail(answer, 401, "Not authenticated", "delete without a Bearer token")

    answer = f.api.delete(alice["access"], mine["id"])
    check(answer.status == 204 and answer.text == "", f"delete-passkey: {answer}")
    log("ok delete-passkey 204")
    expect_detail(
        f.api.delete(alice["access"], mine["id"]), 404, NOT_FOUND, "the same delete again"
    )
    check(f.api.passkeys(alice["access"]) == [], "the deleted passkey is still listed")
    check(f.api.mfa(alice["access"]).get("passkeys") == 0, "mfa-status still counts it")
    check(excluded_ids(f.register_options(alice)) == [], "excludeCredentials still lists it")
    f.refused_login(alices, "the deleted passkey")
    f.refused_login(alices, "the deleted passkey, again")
    f.log_in(bobs, bob, "bob's passkey still logs in")


@scenario("deleted-user")
def deleted_user(f: Flows) -> None:
    """Step 1: alice registers, deletes her account, and her passkey logs nobody in at once.
    The state keeps her passkey for step 2 (`deleted-user-again`)."""
    (alice,) = f.users[:1]
    auth = Authenticator()
    f.add_passkey(alice, auth, "alice registers")
    f.log_in(auth, alice, "before the deletion")
    handle = auth.credentials[0].user_handle
    answer = f.api.send("DELETE", "/api/users/me", {"password": alice["password"]}, alice["access"])
    check(answer.status == 204, f"delete-account: {answer}")
    for i in range(3):
        f.refused_login(auth, f"the deleted user's passkey, try {i + 1}")
    f.save({"alice": auth}, handle=b64url(handle))


@scenario("deleted-user-again")
def deleted_user_again(f: Flows) -> None:
    """Step 2, after the purge and after someone registered alice's username and email again:
    the old passkey still logs nobody in, and the new account has a handle of its own."""
    (again,) = f.users[:1]
    state = f.load()
    auth = state["authenticators"]["alice"]
    f.refused_login(auth, "the deleted user's passkey after the purge")
    new_handle = unb64url(f.register_options(again)["publicKey"]["user"]["id"])
    f.refused_login(auth, "... with the new account's user handle", user_handle=new_handle)
    options = f.register_options(again)
    check(
        unb64url(options["publicKey"]["user"]["id"]) != unb64url(state["handle"]),
        "the new account of the same username got the deleted account's user handle",
    )
    check(f.api.mfa(again["access"]).get("passkeys") == 0, "the new account has passkeys")
    check(f.api.passkeys(again["access"]) == [], "the new account lists passkeys")
    mine = Authenticator()
    f.add_passkey(again, mine, "the new account registers")
    f.log_in(mine, again, "the new account's passkey")


@scenario("delete-while-logging-in")
def delete_while_logging_in(f: Flows) -> None:
    (alice,) = f.users[:1]
    outcomes = []
    for round_ in range(8):
        auth = Authenticator(keeps_counter=bool(round_ % 2))
        passkey = f.add_passkey(alice, auth, f"round {round_}: register")
        options = f.login_options()
        credential = auth.get(options["publicKey"], f.origin)
        delete, login = race(
            [
                lambda pid=passkey["id"]: f.api.delete(alice["access"], pid),
                lambda t=options["challenge_token"], c=credential: f.api.login(t, c),
            ]
        )
        for answer in (delete, login):
            check(isinstance(answer, Answer), f"round {round_}: a request failed: {answer!r}")
            check(answer.status < 500, f"round {round_}: {answer}")
        check(delete.status == 204, f"round {round_}: the deletion: {delete}")
        if login.status == 200:
            check_login_pair(login, alice, f"round {round_}: the login that won")
            # The session it opened answers, whatever it answers, without a server error.
            me = f.api.send("GET", "/api/users/me", token=login.json()["access_token"])
            check(me.status in (200, 401), f"round {round_}: me after the race: {me}")
        else:
            expect_login_refused(login, f"round {round_}: the login that lost")
        outcomes.append(login.status)
        # Afterwards the passkey never logs in again, and is gone from every view.
        f.refused_login(auth, f"round {round_}: after the race")
        check(
            all(p["id"] != passkey["id"] for p in f.api.passkeys(alice["access"])),
            f"round {round_}: the deleted passkey is still listed",
        )
    check(f.api.mfa(alice["access"]).get("passkeys") == 0, "mfa-status counts deleted passkeys")
    log(f"ok 8 rounds of delete against login: login answered {outcomes}")
    f.result = {"logins": outcomes}


@scenario("ended-session")
def ended_session(f: Flows) -> None:
    """The Bearer routes of the section refuse an access token whose session has ended (here a
    passkey session, logged out), though the token has not expired."""
    (alice,) = f.users[:1]
    auth = Authenticator()
    passkey = f.add_passkey(alice, auth, "register")
    session = f.log_in(auth, alice, "a passkey session")
    access = session["access_token"]
    options = f.register_options({**alice, "access": access})
    credential = Authenticator().create(options["publicKey"], f.origin)
    answer = f.api.send("POST", "/api/auth/logout", {"refresh_token": session["refresh_token"]})
    check(answer.status == 204, f"logout: {answer}")

    bad = "Could not validate credentials"
    for answer, what in [
        (f.api.register_options(access), "passkey-register-options"),
        (f.api.register(access, options["challenge_token"], credential), "passkey-register"),
        (f.api.send("GET", "/api/users/me/passkeys", token=access), "list-passkeys"),
        (f.api.delete(access, passkey["id"]), "delete-passkey"),
        (f.api.send("GET", "/api/users/me/mfa", token=access), "mfa-status"),
    ]:
        expect_detail(answer, 401, bad, f"{what} with the token of a logged-out session")
        log(f"ok {what}: an ended session's token refused")
    refreshed = f.api.send(
        "POST", "/api/auth/refresh-token", {"refresh_token": session["refresh_token"]}
    )
    expect_detail(refreshed, 401, "Invalid or expired refresh token", "refresh after logout")
    listed = f.api.passkeys(alice["access"])
    check([p["id"] for p in listed] == [passkey["id"]], f"the refused calls changed: {listed}")
    f.log_in(auth, alice, "the passkey still logs in")


@scenario("duplicate-credential")
def duplicate_credential(f: Flows) -> None:
    alice, bob = f.users[:2]
    auth = Authenticator()
    original = f.add_passkey(alice, auth, "alice registers")
    cid = unb64url(original["credential_id"])

    # The same credential id again for alice: a hostile client ignores excludeCredentials.
    f.refused_registration(
        alice,
        Authenticator(),
        "the same credential id again, same user",
        credential_id=cid,
        unchecked=True,
    )
    # ... and for bob, with a key of his own.
    f.refused_registration(
        bob, Authenticator(), "the same credential id for another user", credential_id=cid
    )
    # ... and for bob with another id claimed in id/rawId than the one attested.
    options = f.register_options(bob)
    credential = Authenticator().create(options["publicKey"], f.origin, credential_id=cid)
    credential["id"] = credential["rawId"] = b64url(os.urandom(32))
    expect_registration_refused(
        f.api.register(bob["access"], options["challenge_token"], credential),
        "the same credential id attested under another claimed id",
    )
    check(len(f.api.passkeys(alice["access"])) == 1, "alice has a second passkey")
    check(f.api.passkeys(bob["access"]) == [], "bob got alice's credential id")
    check(f.api.mfa(bob["access"]).get("passkeys") == 0, "bob's mfa-status counts a passkey")
    # The original key still owns it, for alice.
    f.log_in(auth, alice, "the original credential")
    impostor = Authenticator()
    impostor.create(f.register_options(bob)["publicKey"], f.origin, credential_id=cid)
    f.refused_login(impostor, "the duplicate's key under the registered credential id")

    # Two users registering one new credential id at the same moment: one of them gets it.
    for round_ in range(3):
        shared = os.urandom(32)
        attempts = []
        for user in (alice, bob):
            options = f.register_options(user)
            credential = Authenticator().create(
                options["publicKey"], f.origin, credential_id=shared
            )
            attempts.append((user, options["challenge_token"], credential))
        answers = race(
            [(lambda u=u, t=t, c=c: f.api.register(u["access"], t, c)) for u, t, c in attempts]
        )
        statuses = [getattr(a, "status", repr(a)) for a in answers]
        check(
            all(isinstance(a, Answer) for a in answers) and sorted(statuses) == [201, 400],
            f"round {round_}: one credential id registered by two users at once: {statuses}",
        )
        for a in answers:
            if a.status == 400:
                expect_registration_refused(a, f"round {round_}: the slower of the two")
    owners = [len(f.api.passkeys(u["access"])) for u in (alice, bob)]
    check(sum(owners) == 4, f"1 + 3 passkeys expected, alice and bob have {owners}")


@scenario("notice")
def notice(f: Flows) -> None:
    (alice,) = f.users[:1]
    f.add_passkey(alice, Authenticator(), "register")
    f.refused_registration(alice, Authenticator(uv=False), "a refused registration (no notice)")


# -- TOTP on: passkey-register needs a code -----------------------------------------------------


def totp(secret: str, step: int) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@scenario("totp")
def with_totp(f: Flows) -> None:
    (alice,) = f.users[:1]
    token = alice["access"]
    setup = f.api.send("POST", "/api/users/me/mfa/totp", {"password": alice["password"]}, token)
    check(setup.status == 200, f"totp-setup: {setup}")
    secret = setup.json()["secret"]
    step = int(time.time()) // 30
    confirm = f.api.send(
        "POST", "/api/users/me/mfa/totp/confirm", {"code": totp(secret, step)}, token
    )
    check(confirm.status == 200, f"totp-confirm: {confirm}")
    recovery = confirm.json()["recovery_codes"]
    check(f.api.mfa(token).get("totp") is True, "TOTP is not on")

    # Options stay Bearer-only.
    options = f.register_options(alice)
    check_creation_options(options, alice)

    def attempt(auth: Authenticator, **extra) -> Answer:
        options = f.register_options(alice)
        credential = auth.create(options["publicKey"], f.origin)
        return f.api.register(token, options["challenge_token"], credential, **extra)

    expect_detail(attempt(Authenticator()), 400, "Two-factor code required", "no code")
    log("ok TOTP on, no code: 400 Two-factor code required")
    now = int(time.time()) // 30
    valid = {totp(secret, s) for s in range(now - 2, now + 3)}
    wrong = next(
        totp(secret, s) for s in range(now + 100, now + 200) if totp(secret, s) not in valid
    )
    expect_detail(
        attempt(Authenticator(), code=wrong), 400, "Invalid two-factor code", "a wrong code"
    )
    log("ok TOTP on, wrong code: 400 Invalid two-factor code")
    check(f.api.passkeys(token) == [], "a registration without a valid code left a passkey")

    by_recovery = Authenticator()
    answer = attempt(by_recovery, code=recovery[0])
    check_registered(answer, "Passkey", "with a recovery code")
    log("ok TOTP on, a recovery code: 201")
    # The confirmation used the current step's code; the next step's is accepted (one step
    # either side) and unused.
    by_totp = Authenticator()
    answer = attempt(by_totp, code=totp(secret, step + 1), name="By TOTP")
    check_registered(answer, "By TOTP", "with a TOTP code")
    log("ok TOTP on, a TOTP code: 201")
    expect_detail(
        attempt(Authenticator(), code=recovery[0]),
        400,
        "Invalid two-factor code",
        "a used recovery code",
    )
    # A passkey login asks for no TOTP: a user-verifying passkey is two factors.
    f.log_in(by_recovery, alice, "passkey login with TOTP on")
    f.log_in(by_totp, alice, "the other passkey")
    check(f.api.mfa(token).get("passkeys") == 2, "mfa-status does not count 2 passkeys")


# -- challenges live 300 s: three steps around two restarts with a moved clock ------------------


@scenario("expiry-prepare")
def expiry_prepare(f: Flows) -> None:
    (alice,) = f.users[:1]
    auth = Authenticator()
    f.add_passkey(alice, auth, "register")
    options = {name: f.register_options(alice) for name in ("fresh", "stale")}
    logins = {name: f.login_options() for name in ("fresh", "stale")}
    f.save({"alice": auth}, registration=options, login=logins)


def expiry_step(f: Flows, name: str) -> None:
    (alice,) = f.users[:1]
    state = f.load()
    auth = state["authenticators"]["alice"]
    options = state["registration"][name]
    login = state["login"][name]
    credential = Authenticator().create(options["publicKey"], f.origin)
    answer = f.api.register(alice["access"], options["challenge_token"], credential)
    assertion = auth.get(login["publicKey"], f.origin)
    answer_login = f.api.login(login["challenge_token"], assertion)
    if name == "fresh":
        check_registered(answer, "Passkey", "a registration challenge 250 s old")
        check_login_pair(answer_login, alice, "a login challenge 250 s old")
        log("ok challenges 250 s old still work")
    else:
        expect_registration_refused(answer, "a registration challenge over 300 s old")
        expect_login_refused(answer_login, "a login challenge over 300 s old")
        f.log_in(auth, alice, "a fresh challenge after the stale ones")
    f.save({"alice": auth}, **{k: v for k, v in state.items() if k != "authenticators"})


@scenario("expiry-fresh")
def expiry_fresh(f: Flows) -> None:
    expiry_step(f, "fresh")


@scenario("expiry-stale")
def expiry_stale(f: Flows) -> None:
    expiry_step(f, "stale")


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        print(f"scenarios: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    name = sys.argv[1]
    flows = Flows(json.loads(sys.argv[2]))
    try:
        SCENARIOS[name](flows)
    except Failed as failure:
        print(f"FAILED {name}: {failure}", file=sys.stderr)
        return 1
    print(json.dumps(flows.result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
