"""Passkeys in a real browser: headless Chromium with a WebDriver virtual authenticator (CTAP2,
internal, resident keys, user verification) registers a passkey and signs in with it through
`navigator.credentials`, on a page of the service's own origin, against the local server. What
the browser makes (clientDataJSON with its origin, attestation, assertion) is the browser's, not a
Rust test's imitation. The page is http://localhost:<port>/docs: the RP id is `localhost`, which
127.0.0.1 is not a suffix of, and http://localhost is a secure context, so WebAuthn is on.

Then the same credential in a second authenticator that fails user verification: the browser
refuses to sign, or the server refuses what it signs; no token either way."""

import base64
import json
import urllib.parse

from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions

# base64url <-> ArrayBuffer, and WebAuthn's JSON forms (Level 3: parse*OptionsFromJSON, toJSON)
# with the same done by hand for a Chromium that lacks them. Every script below is run by
# execute_async_script, so its last argument is the callback, called with a JSON-able value; a
# rejection of a ceremony comes back as {stage, error: DOMException name, message}.
HELPERS = r"""
const done = arguments[arguments.length - 1];
const b64url = {
  decode(text) {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
  },
  encode(buffer) {
    let binary = '';
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  },
};
const withIds = (list) => (list || []).map((c) => ({ ...c, id: b64url.decode(c.id) }));
function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return { ...json, challenge: b64url.decode(json.challenge), user: { ...json.user, id: b64url.decode(json.user.id) },
           excludeCredentials: withIds(json.excludeCredentials) };
}
function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return { ...json, challenge: b64url.decode(json.challenge), allowCredentials: withIds(json.allowCredentials) };
}
function toJSON(credential) {
  if (credential.toJSON) return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: b64url.encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64url.encode(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = b64url.encode(r.authenticatorData);
    response.signature = b64url.encode(r.signature);
    if (r.userHandle) response.userHandle = b64url.encode(r.userHandle);
  }
  return { id: credential.id, rawId: b64url.encode(credential.rawId), type: credential.type, response,
           authenticatorAttachment: credential.authenticatorAttachment,
           clientExtensionResults: credential.getClientExtensionResults() };
}
const failed = (stage) => (e) => done({ stage, error: e.name, message: e.message });
async function post(path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const answer = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: answer.status, body: await answer.text() };
}
"""

# arguments: the answer of POST /api/users/me/passkeys/options, the access token.
REGISTER = (
    HELPERS
    + r"""
const [options, token] = arguments;
navigator.credentials.create({ publicKey: creationOptions(options.publicKey) }).then(async (created) => {
  const credential = toJSON(created);
  const body = { challenge_token: options.challenge_token, credential, name: 'Chromium' };
  const answer = await post('/api/users/me/passkeys', body, token);
  done({ credential, ...answer });
}, failed('create')).catch(failed('post'));
"""
)

# arguments: the answer of POST /api/auth/passkey/options, and a timeout (ms) for get() or null
# (the refused sign-in shortens it: a browser that waited for a user instead of refusing at once
# would then end in NotAllowedError well within the script timeout).
SIGN_IN = (
    HELPERS
    + r"""
const [options, timeout] = arguments;
const publicKey = requestOptions(options.publicKey);
if (timeout) publicKey.timeout = timeout;
navigator.credentials.get({ publicKey }).then(async (asserted) => {
  const credential = toJSON(asserted);
  const answer = await post('/api/auth/passkey/login', { challenge_token: options.challenge_token, credential });
  done({ credential, ...answer });
}, failed('get')).catch(failed('post'));
"""
)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def post_json(server, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, text = server.request("POST", path, json.dumps(body).encode(), headers)
    assert status == 200, (path, status, text)
    return json.loads(text)


def me(server, token: str) -> dict:
    status, text = server.request("GET", "/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, (status, text)
    return json.loads(text)


def authenticator(user_verified: bool) -> VirtualAuthenticatorOptions:
    return VirtualAuthenticatorOptions(
        protocol=Protocol.CTAP2,
        transport=Transport.INTERNAL,
        has_resident_key=True,
        has_user_verification=True,
        is_user_consenting=True,
        is_user_verified=user_verified,
    )


def test_passkey_registers_and_signs_in_from_chromium(server, browser):
    # A verified user with a password session, from Python.
    server.verified_user("passkeyuser", "passkey@example.com")
    password_token = server.access_token("passkeyuser")
    user = me(server, password_token)

    # A page of the service's own origin, named by localhost (the RP id) rather than 127.0.0.1.
    base = urllib.parse.urlsplit(server.base)
    assert base.hostname == "127.0.0.1", server.base
    origin = f"http://localhost:{base.port}"
    browser.get(origin + "/docs")
    assert browser.execute_script("return [location.origin, isSecureContext, typeof PublicKeyCredential]") == [
        origin,
        True,
        "function",
    ]
    browser.set_script_timeout(60)
    browser.add_virtual_authenticator(authenticator(user_verified=True))

    # Registration: options from the server, create() in the page, the result posted by the page.
    creation = post_json(server, "/api/users/me/passkeys/options", {}, password_token)
    assert creation["challenge_token"], creation
    assert creation["publicKey"]["rp"]["id"] == "localhost", creation
    registered = browser.execute_async_script(REGISTER, creation, password_token)
    assert "error" not in registered, registered
    assert registered["status"] == 201, registered

    # The authenticator now holds one discoverable credential for localhost and this user handle.
    stored = browser.get_credentials()
    assert len(stored) == 1, stored
    (passkey,) = stored
    assert passkey.is_resident_credential
    assert passkey.rp_id == "localhost"
    user_handle = b64url_decode(creation["publicKey"]["user"]["id"])
    assert b64url_decode(passkey.user_handle) == user_handle
    assert b64url_decode(passkey.id) == b64url_decode(registered["credential"]["rawId"])
    signed_count = passkey.sign_count

    # Sign in with no username: a discoverable request, the passkey chosen by the authenticator.
    request = post_json(server, "/api/auth/passkey/options", {})
    assert request["challenge_token"], request
    assert request["publicKey"].get("allowCredentials", []) == [], request
    assert request["publicKey"]["userVerification"] == "required", request
    signed_in = browser.execute_async_script(SIGN_IN, request, None)
    assert "error" not in signed_in, signed_in
    assert signed_in["status"] == 200, signed_in
    assert b64url_decode(signed_in["credential"]["response"]["userHandle"]) == user_handle
    tokens = json.loads(signed_in["body"])
    assert tokens["refresh_token"], tokens
    payload = json.loads(b64url_decode(tokens["access_token"].split(".")[1]))
    assert payload["amr"] == ["hwk", "user"], payload
    assert me(server, tokens["access_token"]) == user

    # Nothing was refused by the page's policy or failed to load.
    problems = [entry["message"] for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert problems == [], problems

    # The same credential, as it is now (its signature counter moved on with the sign-in), in an
    # authenticator whose user verification fails: with userVerification "required" the browser
    # must not sign, and if it did, the server must refuse. No token either way.
    (passkey,) = browser.get_credentials()
    assert passkey.sign_count > signed_count, (passkey.sign_count, signed_count)
    browser.remove_virtual_authenticator()
    browser.add_virtual_authenticator(authenticator(user_verified=False))
    browser.add_credential(passkey)
    assert [c.id for c in browser.get_credentials()] == [passkey.id]
    request = post_json(server, "/api/auth/passkey/options", {})
    refused = browser.execute_async_script(SIGN_IN, request, 10_000)
    if "error" in refused:
        assert (refused["stage"], refused["error"]) == ("get", "NotAllowedError"), refused
    else:
        assert (refused["status"], json.loads(refused["body"])) == (401, {"detail": "Invalid passkey"}), refused
