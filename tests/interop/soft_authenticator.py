"""A software passkey: a CTAP2-like platform authenticator together with the part of a browser
that runs `navigator.credentials.create()` / `.get()` on the WebAuthn JSON a server sends
(WebAuthn Level 3 `PublicKeyCredentialCreationOptionsJSON` / `...RequestOptionsJSON`).

    auth = Authenticator(alg=ES256)              # or EDDSA; uv, counter_start, keeps_counter
    registration = auth.create(options["publicKey"], "http://localhost:8000")
    assertion = auth.get(login_options["publicKey"], "http://localhost:8000")

What it makes: attestation format "none", flags UP|UV|AT at registration and UP|UV at an
assertion, a COSE_Key per RFC 9052/9053 in CTAP2 canonical CBOR, a random credential id, a
signature counter that starts at 0 or 1 and grows by one per assertion (or none: always 0), and a
resident (discoverable) credential kept in memory with its RP id, user handle and user name.

The knobs of the attack tests (keyword arguments of `create` / `get`, and two methods):
  origin            the origin written into clientDataJSON is whatever the caller passes
  rp_id=            hash another RP id into authenticatorData (sign "for another site")
  uv=False          leave the user-verified flag clear
  unchecked=True    skip the browser's own checks (origin vs RP id, offered algorithms,
                    excludeCredentials): what a hostile client does
  credential_id=    register under a chosen credential id (a duplicate), or answer with one
  credential=       answer with this exact resident credential
  user_handle=      answer with another user handle than the credential's
  client_data_type= sign clientDataJSON of another ceremony type (webauthn.get for a create...)
  replay()          the previous response again, byte for byte
  clone()           a second authenticator holding copies of every credential and its counter
  adopt(credential) take a credential of another authenticator (e.g. another user's)
  forge(credential) claim a credential's id and user handle with a key pair of its own

`python soft_authenticator.py --self-test` checks it against an independent verifier
(py_webauthn): for ES256 and EdDSA, registrations and assertions are accepted with user
verification required, and a wrong origin, a wrong RP id hash, a cleared UV flag and a backwards
counter are refused. Run by tests/contract/passkeys.rs, so it fails in CI."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import struct
import sys
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ES256 = -7
EDDSA = -8
RS256 = -257

# authenticatorData flags (WebAuthn Level 3, 6.1)
UP = 0x01
UV = 0x04
BE = 0x08
BS = 0x10
AT = 0x40
ED = 0x80

# COSE (RFC 9052 7.1, RFC 9053 2.1, 2.2, 7.1, 7.2)
COSE_KTY, COSE_ALG, COSE_CRV, COSE_X, COSE_Y = 1, 3, -1, -2, -3
KTY_OKP, KTY_EC2 = 1, 2
CRV_P256, CRV_ED25519 = 1, 6


class ClientError(Exception):
    """What a browser or authenticator would refuse to do (NotAllowedError, InvalidStateError,
    NotSupportedError)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """A resident credential: its key pair, whom it belongs to, and its signature counter."""

    credential_id: bytes
    rp_id: str
    user_handle: bytes
    user_name: str
    alg: int
    private_key: object
    counter: int = 0
    keeps_counter: bool = True

    @staticmethod
    def generate(alg: int, **rest) -> Credential:
        if alg == ES256:
            key = ec.generate_private_key(ec.SECP256R1())
        elif alg == EDDSA:
            key = Ed25519PrivateKey.generate()
        else:
            raise ValueError(f"unsupported algorithm {alg}")
        return Credential(alg=alg, private_key=key, **rest)

    def cose_public_key(self) -> bytes:
        """The COSE_Key of the public key, CTAP2 canonical CBOR (keys sorted 1, 3, -1, -2, -3)."""
        public = self.private_key.public_key()
        if self.alg == ES256:
            numbers = public.public_numbers()
            key = {
                COSE_KTY: KTY_EC2,
                COSE_ALG: ES256,
                COSE_CRV: CRV_P256,
                COSE_X: numbers.x.to_bytes(32, "big"),
                COSE_Y: numbers.y.to_bytes(32, "big"),
            }
        else:
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            key = {COSE_KTY: KTY_OKP, COSE_ALG: EDDSA, COSE_CRV: CRV_ED25519, COSE_X: raw}
        return cbor2.dumps(key, canonical=True)

    def sign(self, data: bytes) -> bytes:
        if self.alg == ES256:
            # ASN.1 DER Ecdsa-Sig-Value, as WebAuthn 6.5.6 wants for ES256.
            return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self.private_key.sign(data)

    def next_count(self) -> int:
        if not self.keeps_counter:
            return 0
        self.counter += 1
        return self.counter

    def to_json(self) -> dict:
        der = self.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {
            "credential_id": b64url(self.credential_id),
            "rp_id": self.rp_id,
            "user_handle": b64url(self.user_handle),
            "user_name": self.user_name,
            "alg": self.alg,
            "private_key": b64url(der),
            "counter": self.counter,
            "keeps_counter": self.keeps_counter,
        }

    @staticmethod
    def from_json(data: dict) -> Credential:
        return Credential(
            credential_id=unb64url(data["credential_id"]),
            rp_id=data["rp_id"],
            user_handle=unb64url(data["user_handle"]),
            user_name=data["user_name"],
            alg=data["alg"],
            private_key=serialization.load_der_private_key(
                unb64url(data["private_key"]), password=None
            ),
            counter=data["counter"],
            keeps_counter=data["keeps_counter"],
        )


@dataclass
class Authenticator:
    """A platform authenticator (attachment "platform", transport "internal") and its client.

    alg: the algorithm of new credentials (ES256 or EDDSA); uv: whether it verifies the user;
    counter_start: the counter of a new credential (0 or 1); keeps_counter: False for an
    authenticator without a counter (always 0); credential_id_length: 16 or 32 bytes;
    backup_eligible: the BE flag (and BS) of its credentials."""

    alg: int = ES256
    uv: bool = True
    counter_start: int = 0
    keeps_counter: bool = True
    credential_id_length: int = 32
    backup_eligible: bool = False
    aaguid: bytes = bytes(16)
    credentials: list = field(default_factory=list)
    last_response: dict | None = None

    # -- the browser's side ------------------------------------------------------------------

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        # The challenge goes back as base64url without padding, whatever padding it came with.
        data = {
            "type": kind,
            "challenge": b64url(unb64url(challenge)),
            "origin": origin,
            "crossOrigin": False,
        }
        return json.dumps(data, separators=(",", ":")).encode("utf-8")

    @staticmethod
    def _check_rp_id(rp_id: str, origin: str) -> None:
        """A browser runs a ceremony only for an RP id that is the origin's host or a suffix."""
        host = urlsplit(origin).hostname or ""
        if not (host == rp_id or host.endswith("." + rp_id)):
            raise ClientError(f"RP id {rp_id!r} is not valid for origin {origin!r}")

    def _flags(self, uv: bool | None, extra: int = 0) -> int:
        flags = UP | extra
        if self.uv if uv is None else uv:
            flags |= UV
        if self.backup_eligible:
            flags |= BE | BS
        return flags

    # -- navigator.credentials.create() ------------------------------------------------------

    def create(
        self,
        options: dict,
        origin: str,
        *,
        alg: int | None = None,
        rp_id: str | None = None,
        uv: bool | None = None,
        credential_id: bytes | None = None,
        unchecked: bool = False,
        client_data_type: str = "webauthn.create",
    ) -> dict:
        """RegistrationResponseJSON for PublicKeyCredentialCreationOptionsJSON `options`."""
        alg = self.alg if alg is None else alg
        options_rp_id = options["rp"].get("id") or urlsplit(origin).hostname
        offered = [p.get("alg") for p in options.get("pubKeyCredParams", [])]
        if not unchecked:
            self._check_rp_id(options_rp_id, origin)
            if alg not in offered:
                raise ClientError(f"algorithm {alg} is not offered: pubKeyCredParams {offered}")
            excluded = {unb64url(c["id"]) for c in options.get("excludeCredentials") or []}
            mine = {c.credential_id for c in self.credentials if c.rp_id == options_rp_id}
            if excluded & mine:
                raise ClientError("InvalidStateError: a credential in excludeCredentials is here")

        user = options["user"]
        credential = Credential.generate(
            alg,
            credential_id=credential_id or os.urandom(self.credential_id_length),
            rp_id=options_rp_id,
            user_handle=unb64url(user["id"]),
            user_name=user.get("name", ""),
            counter=self.counter_start if self.keeps_counter else 0,
            keeps_counter=self.keeps_counter,
        )
        # A discoverable credential replaces one of the same RP and user (CTAP2 makeCredential).
        self.credentials = [
            c
            for c in self.credentials
            if not (c.rp_id == credential.rp_id and c.user_handle == credential.user_handle)
        ]
        self.credentials.append(credential)

        client_data = self._client_data(client_data_type, options["challenge"], origin)
        attested = (
            self.aaguid
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + credential.cose_public_key()
        )
        auth_data = (
            hashlib.sha256((rp_id or options_rp_id).encode("utf-8")).digest()
            + bytes([self._flags(uv, AT)])
            + struct.pack(">I", credential.counter)
            + attested
        )
        attestation = cbor2.dumps(
            {"fmt": "none", "attStmt": {}, "authData": auth_data}, canonical=True
        )
        cid = b64url(credential.credential_id)
        self.last_response = {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
        return copy.deepcopy(self.last_response)

    # -- navigator.credentials.get() ---------------------------------------------------------

    def resident(self, rp_id: str, allowed: list | None = None) -> list:
        """The credentials this authenticator holds for `rp_id` (among `allowed` ids if any)."""
        found = [c for c in self.credentials if c.rp_id == rp_id]
        if allowed:
            ids = {unb64url(a["id"]) for a in allowed}
            found = [c for c in found if c.credential_id in ids]
        return found

    def get(
        self,
        options: dict,
        origin: str,
        *,
        credential: Credential | None = None,
        credential_id: bytes | None = None,
        rp_id: str | None = None,
        uv: bool | None = None,
        user_handle: bytes | None = None,
        unchecked: bool = False,
        client_data_type: str = "webauthn.get",
    ) -> dict:
        """AuthenticationResponseJSON for PublicKeyCredentialRequestOptionsJSON `options`."""
        options_rp_id = options.get("rpId") or urlsplit(origin).hostname
        if not unchecked:
            self._check_rp_id(options_rp_id, origin)
        if credential is None:
            candidates = self.resident(options_rp_id, options.get("allowCredentials"))
            if credential_id is not None:
                candidates = [c for c in candidates if c.credential_id == credential_id]
            if not candidates:
                raise ClientError(f"NotAllowedError: no credential for {options_rp_id!r}")
            if len(candidates) > 1:
                raise ClientError(
                    "several credentials: pick one with credential= or credential_id="
                )
            credential = candidates[0]

        client_data = self._client_data(client_data_type, options["challenge"], origin)
        auth_data = (
            hashlib.sha256((rp_id or options_rp_id).encode("utf-8")).digest()
            + bytes([self._flags(uv)])
            + struct.pack(">I", credential.next_count())
        )
        signature = credential.sign(auth_data + hashlib.sha256(client_data).digest())
        cid = b64url(credential.credential_id)
        handle = credential.user_handle if user_handle is None else user_handle
        self.last_response = {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
        return copy.deepcopy(self.last_response)

    # -- attack helpers ----------------------------------------------------------------------

    def replay(self) -> dict:
        """The previous response, unchanged."""
        if self.last_response is None:
            raise ClientError("nothing to replay")
        return copy.deepcopy(self.last_response)

    def clone(self) -> Authenticator:
        """A second device holding copies of every credential, counters included."""
        twin = copy.copy(self)
        twin.credentials = [Credential.from_json(c.to_json()) for c in self.credentials]
        twin.last_response = None
        return twin

    def adopt(self, credential: Credential) -> Credential:
        """Holds a copy of another authenticator's credential (e.g. another user's)."""
        mine = Credential.from_json(credential.to_json())
        self.credentials.append(mine)
        return mine

    def forge(self, credential: Credential) -> Credential:
        """Holds another credential's id, RP id and user handle, with a new key pair of the same
        algorithm: a device that claims a credential it does not have."""
        fake = Credential.generate(
            credential.alg,
            credential_id=credential.credential_id,
            rp_id=credential.rp_id,
            user_handle=credential.user_handle,
            user_name=credential.user_name,
            counter=credential.counter,
            keeps_counter=credential.keeps_counter,
        )
        self.credentials.append(fake)
        return fake

    def credential(self, credential_id: str | bytes) -> Credential:
        raw = unb64url(credential_id) if isinstance(credential_id, str) else credential_id
        for c in self.credentials:
            if c.credential_id == raw:
                return c
        raise KeyError(credential_id)

    # -- state across processes --------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "alg": self.alg,
            "uv": self.uv,
            "counter_start": self.counter_start,
            "keeps_counter": self.keeps_counter,
            "credential_id_length": self.credential_id_length,
            "backup_eligible": self.backup_eligible,
            "aaguid": b64url(self.aaguid),
            "credentials": [c.to_json() for c in self.credentials],
            "last_response": self.last_response,
        }

    @staticmethod
    def from_json(data: dict) -> Authenticator:
        return Authenticator(
            alg=data["alg"],
            uv=data["uv"],
            counter_start=data["counter_start"],
            keeps_counter=data["keeps_counter"],
            credential_id_length=data["credential_id_length"],
            backup_eligible=data["backup_eligible"],
            aaguid=unb64url(data["aaguid"]),
            credentials=[Credential.from_json(c) for c in data["credentials"]],
            last_response=data["last_response"],
        )


# --------------------------------------------------------------------------------------------
# The self-test against py_webauthn
# --------------------------------------------------------------------------------------------

SELF_TEST_ORIGIN = "http://localhost:8000"
SELF_TEST_RP_ID = "localhost"


class _SelfTest:
    """Every check prints `ok ...`; the first failure raises."""

    def __init__(self) -> None:
        import webauthn
        from webauthn.helpers import exceptions, structs

        self.webauthn = webauthn
        self.structs = structs
        self.exceptions = exceptions
        self.checks = 0

    def ok(self, what: str) -> None:
        self.checks += 1
        print(f"ok {what}")

    # -- options as an independent RP library makes them --------------------------------------

    def registration_options(self, user_id: bytes, exclude=None, algs=None) -> dict:
        s = self.structs
        options = self.webauthn.generate_registration_options(
            rp_id=SELF_TEST_RP_ID,
            rp_name="UContact",
            user_name="alice",
            user_id=user_id,
            authenticator_selection=s.AuthenticatorSelectionCriteria(
                resident_key=s.ResidentKeyRequirement.REQUIRED,
                user_verification=s.UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=exclude,
            supported_pub_key_algs=algs or [ES256, EDDSA, RS256],
        )
        return json.loads(self.webauthn.options_to_json(options))

    def login_options(self) -> dict:
        options = self.webauthn.generate_authentication_options(
            rp_id=SELF_TEST_RP_ID,
            user_verification=self.structs.UserVerificationRequirement.REQUIRED,
        )
        return json.loads(self.webauthn.options_to_json(options))

    # -- verification with user verification required ----------------------------------------

    def verify_registration(self, response: dict, challenge: bytes):
        return self.webauthn.verify_registration_response(
            credential=response,
            expected_challenge=challenge,
            expected_rp_id=SELF_TEST_RP_ID,
            expected_origin=SELF_TEST_ORIGIN,
            require_user_verification=True,
            supported_pub_key_algs=[ES256, EDDSA, RS256],
        )

    def verify_login(self, response: dict, challenge: bytes, public_key: bytes, stored: int):
        return self.webauthn.verify_authentication_response(
            credential=response,
            expected_challenge=challenge,
            expected_rp_id=SELF_TEST_RP_ID,
            expected_origin=SELF_TEST_ORIGIN,
            credential_public_key=public_key,
            credential_current_sign_count=stored,
            require_user_verification=True,
        )

    def registration_refused(self, what: str, response: dict, challenge: bytes) -> None:
        try:
            self.verify_registration(response, challenge)
        except self.exceptions.InvalidRegistrationResponse as error:
            self.ok(f"{what}: refused ({error})")
            return
        raise AssertionError(f"{what}: py_webauthn accepted it")

    def login_refused(self, what, response, challenge, public_key, stored) -> None:
        try:
            self.verify_login(response, challenge, public_key, stored)
        except self.exceptions.InvalidAuthenticationResponse as error:
            self.ok(f"{what}: refused ({error})")
            return
        raise AssertionError(f"{what}: py_webauthn accepted it")

    # -- the checks ----------------------------------------------------------------------------

    @staticmethod
    def check_cose(cose: bytes, credential: Credential) -> None:
        """RFC 9052/9053 by hand, independently of py_webauthn's decoder."""
        key = cbor2.loads(cose)
        assert cbor2.dumps(key, canonical=True) == cose, "COSE key not in canonical CBOR"
        assert list(key) == sorted(key, key=lambda k: (k < 0, abs(k))), list(key)
        public = credential.private_key.public_key()
        if credential.alg == ES256:
            assert set(key) == {1, 3, -1, -2, -3}, key
            assert (key[1], key[3], key[-1]) == (KTY_EC2, ES256, CRV_P256), key
            n = public.public_numbers()
            assert key[-2] == n.x.to_bytes(32, "big"), "x"
            assert key[-3] == n.y.to_bytes(32, "big"), "y"
        else:
            assert set(key) == {1, 3, -1, -2}, key
            assert (key[1], key[3], key[-1]) == (KTY_OKP, EDDSA, CRV_ED25519), key
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            assert key[-2] == raw and len(raw) == 32, "x"

    def counter_mode(self, alg: int, name: str, counter_start: int, keeps: bool) -> None:
        """One algorithm and counter mode: a registration, logins, and every refusal."""
        mode = f"{name}, counter {'from ' + str(counter_start) if keeps else 'none'}"
        origin = SELF_TEST_ORIGIN
        user_id = os.urandom(32)
        auth = Authenticator(alg=alg, counter_start=counter_start, keeps_counter=keeps)
        options = self.registration_options(user_id)
        challenge = unb64url(options["challenge"])
        registration = auth.create(options, origin)

        assert set(registration) == {
            "id",
            "rawId",
            "type",
            "response",
            "clientExtensionResults",
            "authenticatorAttachment",
        }, registration
        assert set(registration["response"]) == {
            "clientDataJSON",
            "attestationObject",
            "transports",
        }, registration
        assert registration["response"]["transports"] == ["internal"]
        assert registration["clientExtensionResults"] == {}
        assert registration["authenticatorAttachment"] == "platform"
        assert len(unb64url(registration["rawId"])) == 32

        verified = self.verify_registration(registration, challenge)
        assert verified.fmt == self.structs.AttestationFormat.NONE
        assert verified.user_verified
        assert verified.sign_count == (counter_start if keeps else 0), verified.sign_count
        assert b64url(verified.credential_id) == registration["id"]
        self.check_cose(verified.credential_public_key, auth.credentials[-1])
        self.ok(f"{mode}: registration accepted, COSE key per RFC 9053")

        self.registration_refused(
            f"{mode}: registration from another origin",
            Authenticator(alg=alg).create(options, "http://evil.example:8000", unchecked=True),
            challenge,
        )
        self.registration_refused(
            f"{mode}: registration for another RP id hash",
            Authenticator(alg=alg).create(options, origin, rp_id="evil.example"),
            challenge,
        )
        self.registration_refused(
            f"{mode}: registration without UV",
            Authenticator(alg=alg, uv=False).create(options, origin),
            challenge,
        )
        self.registration_refused(
            f"{mode}: registration over another challenge", registration, os.urandom(32)
        )
        self.registration_refused(
            f"{mode}: registration with clientDataJSON of type get",
            Authenticator(alg=alg).create(options, origin, client_data_type="webauthn.get"),
            challenge,
        )

        # Logins: the counter grows by one each (or stays 0), and py_webauthn follows it.
        stored = verified.sign_count
        public_key = verified.credential_public_key
        twin = auth.clone()
        for round_ in range(3):
            options = self.login_options()
            assert not options.get("allowCredentials"), options
            last_challenge = unb64url(options["challenge"])
            assertion = auth.get(options, origin)
            assert set(assertion["response"]) == {
                "clientDataJSON",
                "authenticatorData",
                "signature",
                "userHandle",
            }, assertion
            assert unb64url(assertion["response"]["userHandle"]) == user_id
            assert assertion["id"] == assertion["rawId"] == registration["id"]
            result = self.verify_login(assertion, last_challenge, public_key, stored)
            assert result.user_verified
            want = (counter_start + round_ + 1) if keeps else 0
            assert result.new_sign_count == want, (result.new_sign_count, want)
            stored = result.new_sign_count
        self.ok(f"{mode}: three logins accepted, counter {stored}")

        # Each refusal starts from what a copy of the authenticator would answer, so the counter
        # alone is never the reason.
        def refused(what: str, *, origin: str = origin, **knobs) -> None:
            options = self.login_options()
            response = auth.clone().get(options, origin, **knobs)
            challenge = unb64url(options["challenge"])
            self.login_refused(f"{mode}: {what}", response, challenge, public_key, stored)

        refused("login from another origin", origin="http://evil.example", unchecked=True)
        refused("login from another port", origin="http://localhost:8001")
        refused("login over https", origin="https://localhost:8000")
        refused("login for another RP id hash", rp_id="evil.example")
        refused("login without UV", uv=False)
        options = self.login_options()
        forger = Authenticator(alg=alg)
        forger.forge(auth.credentials[0])
        self.login_refused(
            f"{mode}: the credential id signed by another key",
            forger.get(options, origin),
            unb64url(options["challenge"]),
            public_key,
            stored,
        )
        refused(
            "login signed over clientDataJSON of type create", client_data_type="webauthn.create"
        )

        options = self.login_options()
        response = auth.clone().get(options, origin)
        signature = bytearray(unb64url(response["response"]["signature"]))
        signature[-1] ^= 1
        response["response"]["signature"] = b64url(bytes(signature))
        challenge = unb64url(options["challenge"])
        self.login_refused(
            f"{mode}: login with a tampered signature", response, challenge, public_key, stored
        )
        self.login_refused(
            f"{mode}: login replayed over a new challenge",
            auth.clone().get(self.login_options(), origin),
            os.urandom(32),
            public_key,
            stored,
        )
        options = self.login_options()
        from_twin = twin.get(options, origin)
        if keeps:
            # The clone stopped at the registration's counter: it goes backwards.
            self.login_refused(
                f"{mode}: login from a clone whose counter went backwards",
                from_twin,
                unb64url(options["challenge"]),
                public_key,
                stored,
            )
            self.login_refused(
                f"{mode}: the last login replayed",
                auth.replay(),
                last_challenge,
                public_key,
                stored,
            )
        else:
            self.verify_login(from_twin, unb64url(options["challenge"]), public_key, stored)
            self.ok(f"{mode}: without a counter a copy is indistinguishable (accepted)")

        # The state survives a round trip through JSON (the contract driver keeps it so).
        restored = Authenticator.from_json(json.loads(json.dumps(auth.to_json())))
        options = self.login_options()
        result = self.verify_login(
            restored.get(options, origin), unb64url(options["challenge"]), public_key, stored
        )
        self.ok(f"{mode}: restored from JSON, login accepted (counter {result.new_sign_count})")

    def client_refusals(self, alg: int, name: str) -> None:
        """What the browser half refuses, and what a hostile client does anyway."""
        origin = SELF_TEST_ORIGIN
        auth = Authenticator(alg=alg)
        try:
            auth.create(self.registration_options(os.urandom(16), algs=[RS256]), origin)
            raise AssertionError("created a credential of an algorithm not offered")
        except ClientError:
            self.ok(f"{name}: not offered in pubKeyCredParams, refused by the client")
        user_id = os.urandom(16)
        registration = auth.create(self.registration_options(user_id), origin)
        exclude = [self.structs.PublicKeyCredentialDescriptor(id=unb64url(registration["id"]))]
        try:
            auth.create(self.registration_options(user_id, exclude=exclude), origin)
            raise AssertionError("ignored excludeCredentials")
        except ClientError:
            self.ok(f"{name}: excludeCredentials honoured")
        options = self.registration_options(user_id, exclude=exclude)
        again = auth.create(
            options, origin, credential_id=unb64url(registration["id"]), unchecked=True
        )
        assert again["id"] == registration["id"]
        self.verify_registration(again, unb64url(options["challenge"]))
        self.ok(f"{name}: a hostile client registers a chosen credential id")

    def rest(self) -> None:
        origin = SELF_TEST_ORIGIN
        auth = Authenticator(credential_id_length=16)
        options = self.registration_options(os.urandom(32))
        registration = auth.create(options, origin)
        assert len(unb64url(registration["rawId"])) == 16
        self.verify_registration(registration, unb64url(options["challenge"]))
        self.ok("16-byte credential ids accepted")

        other = os.urandom(32)
        assertion = auth.get(self.login_options(), origin, user_handle=other)
        assert unb64url(assertion["response"]["userHandle"]) == other
        self.ok("the user handle can be overridden")

        stranger = Authenticator()
        adopted = stranger.adopt(auth.credentials[0])
        assert adopted.credential_id == auth.credentials[0].credential_id
        assert stranger.get(self.login_options(), origin)["id"] == registration["id"]
        self.ok("a credential can be adopted by another authenticator")

        try:
            Authenticator().get(self.login_options(), origin)
            raise AssertionError("answered without a credential")
        except ClientError:
            self.ok("no resident credential: NotAllowedError")
        try:
            auth.create(self.registration_options(os.urandom(16)), "http://example.com")
            raise AssertionError("ran a ceremony for RP id localhost on example.com")
        except ClientError:
            self.ok("an RP id foreign to the origin is refused by the client")

    def run(self) -> int:
        for alg, name in [(ES256, "ES256"), (EDDSA, "EdDSA")]:
            for counter_start, keeps in [(0, True), (1, True), (0, False)]:
                self.counter_mode(alg, name, counter_start, keeps)
            self.client_refusals(alg, name)
        self.rest()
        print(f"self-test passed: {self.checks} checks")
        return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(_SelfTest().run())
    print("usage: soft_authenticator.py --self-test", file=sys.stderr)
    sys.exit(2)
