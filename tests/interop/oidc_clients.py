"""Sign in with UContact from real OpenID Connect clients in a real browser (docs/API.md, "Sign-in
for other apps"): Authlib's OAuth2Session and requests-oauthlib's OAuth2Session (on oauthlib), each
with PKCE (S256), start an authorization from the discovery document; headless Chromium (selenium)
signs in on the hosted pages with a password, a password and a two-factor code, or a passkey (a
WebDriver virtual authenticator); the browser lands on the app's redirect URI (a tiny HTTP server
here) with the code; the library exchanges it and the ID token is verified from the discovery
document and the JWKS alone (Authlib's jose with its OpenID Connect claims; PyJWT's PyJWKClient);
then end-session signs the browser out.

    python oidc_clients.py CONTEXT_JSON

CONTEXT_JSON: {"issuer": "http://localhost:PORT", "client_id", "callback_port",
"password_user": {"username", "password", "sub"},
"totp_user": {"username", "password", "sub", "codes": [a TOTP code, a recovery code]},
"passkey_user": {"username", "sub", "access_token"}, "screenshots": a directory or null}

Prints {"flows": [{flow, library, amr, sub, ...}]} and exits 0, or names the failed check on stderr
and exits 1. Run by tests/contract/oidc_clients.rs on both stores."""

from __future__ import annotations

import http.server
import json
import os
import secrets
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
from pathlib import Path

# The local server speaks plain http on loopback; oauthlib refuses that unless told.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
# Never let Selenium Manager look for drivers or browsers online.
os.environ["SE_OFFLINE"] = "true"

import jwt as pyjwt  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession  # noqa: E402
from authlib.jose import JsonWebKey  # noqa: E402
from authlib.jose import jwt as authlib_jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402
from requests_oauthlib import OAuth2Session as OauthlibSession  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.virtual_authenticator import (  # noqa: E402
    Protocol,
    Transport,
    VirtualAuthenticatorOptions,
)
from selenium.webdriver.support import expected_conditions as until  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
from conftest import chromium  # noqa: E402
from test_passkey_browser import REGISTER  # noqa: E402

SCOPE = "openid email profile offline_access"


class Failed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)


def fetch(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


class Callback:
    """The app's redirect URI: answers every GET with a small page and remembers nothing (the
    browser's URL is what the app reads)."""

    def __init__(self, port: int) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = b"<!DOCTYPE html><title>Example app</title><p id=app>back at the app</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.base = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


class Authlib:
    """Authlib's requests client: PKCE S256, a public client (no authentication at the token
    endpoint), the ID token checked as OpenID Connect Core 3.1.3.7 asks (CodeIDToken)."""

    name = "authlib"

    def __init__(self, discovery: dict, client_id: str, redirect_uri: str) -> None:
        self.discovery = discovery
        self.client_id = client_id
        self.session = AuthlibSession(
            client_id,
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
        )
        self.verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(16)

    def authorization_url(self) -> str:
        url, self.state = self.session.create_authorization_url(
            self.discovery["authorization_endpoint"], code_verifier=self.verifier, nonce=self.nonce
        )
        return url

    def finish(self, callback_url: str) -> tuple[dict, dict, dict]:
        token = self.session.fetch_token(
            self.discovery["token_endpoint"],
            authorization_response=callback_url,
            code_verifier=self.verifier,
            state=self.state,
        )
        keys = JsonWebKey.import_key_set(fetch(self.discovery["jwks_uri"]))
        claims = authlib_jwt.decode(
            token["id_token"],
            keys,
            claims_cls=CodeIDToken,
            claims_options={"iss": {"essential": True, "value": self.discovery["issuer"]}},
            claims_params={"nonce": self.nonce, "client_id": self.client_id, "access_token": token["access_token"]},
        )
        claims.validate()
        info = self.session.get(self.discovery["userinfo_endpoint"]).json()
        return token, dict(claims), info


class RequestsOauthlib:
    """requests-oauthlib (oauthlib) with PKCE S256, the ID token verified by PyJWT from the JWKS
    the discovery document names."""

    name = "requests-oauthlib"

    def __init__(self, discovery: dict, client_id: str, redirect_uri: str) -> None:
        self.discovery = discovery
        self.client_id = client_id
        self.session = OauthlibSession(client_id, redirect_uri=redirect_uri, scope=SCOPE.split(), pkce="S256")
        self.nonce = secrets.token_urlsafe(16)

    def authorization_url(self) -> str:
        url, self.state = self.session.authorization_url(self.discovery["authorization_endpoint"], nonce=self.nonce)
        return url

    def finish(self, callback_url: str) -> tuple[dict, dict, dict]:
        token = self.session.fetch_token(
            self.discovery["token_endpoint"], authorization_response=callback_url, include_client_id=True
        )
        key = pyjwt.PyJWKClient(self.discovery["jwks_uri"]).get_signing_key_from_jwt(token["id_token"])
        claims = pyjwt.decode(
            token["id_token"],
            key,
            algorithms=self.discovery["id_token_signing_alg_values_supported"],
            audience=self.client_id,
            issuer=self.discovery["issuer"],
            options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce", "auth_time"]},
        )
        check(claims["nonce"] == self.nonce, f"requests-oauthlib: nonce {claims['nonce']!r}")
        info = self.session.get(self.discovery["userinfo_endpoint"]).json()
        return token, claims, info


class Run:
    def __init__(self, context: dict) -> None:
        self.context = context
        self.issuer = context["issuer"]
        self.discovery = fetch(self.issuer + "/.well-known/openid-configuration")
        check(self.discovery["issuer"] == self.issuer, f"discovery issuer {self.discovery['issuer']!r}")
        self.callback = Callback(context["callback_port"])
        self.redirect_uri = self.callback.base + "/callback"
        self.profile = tempfile.TemporaryDirectory(prefix="ucontact-oidc-chromium-")
        self.browser = chromium(self.profile.name, window="900,900")
        self.browser.set_script_timeout(60)
        self.wait = WebDriverWait(self.browser, 20)
        self.flows: list[dict] = []

    def close(self) -> None:
        self.browser.quit()
        self.callback.stop()
        self.profile.cleanup()

    def screenshot(self, name: str) -> None:
        directory = self.context.get("screenshots")
        if directory:
            self.browser.save_screenshot(str(Path(directory) / f"{name}.png"))

    def field(self, element_id: str):
        return self.wait.until(until.visibility_of_element_located((By.ID, element_id)))

    def back_at_the_app(self) -> str:
        self.wait.until(lambda b: b.current_url.startswith(self.redirect_uri))
        return self.browser.current_url

    def sign_in(self, flow: str, library, user: dict, code: str | None = None) -> None:
        client = library(self.discovery, self.context["client_id"], self.redirect_uri)
        self.browser.get(client.authorization_url())
        page = f"{flow}-{client.name}"
        if flow == "passkey":
            self.field("passkey-signin").click()
        else:
            self.field("username").send_keys(user["username"])
            self.field("password").send_keys(user["password"])
            self.screenshot(f"signin-{page}")
            self.field("signin").click()
            if flow == "totp":
                self.field("otp").send_keys(code)
                self.screenshot(f"otp-{page}")
                self.field("verify").click()
        callback_url = self.back_at_the_app()
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback_url).query))
        check(query.get("iss") == self.issuer, f"{page}: the redirect's iss {query.get('iss')!r}")
        token, claims, info = client.finish(callback_url)
        check(token["token_type"].lower() == "bearer", f"{page}: token_type {token['token_type']!r}")
        check(bool(token.get("refresh_token")), f"{page}: offline_access gave no refresh token")
        check(claims["sub"] == user["sub"], f"{page}: sub {claims['sub']!r}")
        check(claims["aud"] == self.context["client_id"], f"{page}: aud {claims['aud']!r}")
        check(info["sub"] == user["sub"], f"{page}: userinfo {info}")
        check(info.get("preferred_username") == user["username"], f"{page}: userinfo {info}")
        problems = [e["message"] for e in self.browser.get_log("browser") if e["level"] == "SEVERE"]
        check(not problems, f"{page}: the browser reported {problems}")
        self.flows.append(
            {
                "flow": flow,
                "library": client.name,
                "sub": claims["sub"],
                "amr": claims["amr"],
                "email": claims.get("email"),
                "email_verified": claims.get("email_verified"),
                "sid": claims["sid"],
                "userinfo": info,
            }
        )
        self.sign_out(token["id_token"], page)

    def sign_out(self, id_token: str, page: str) -> None:
        state = secrets.token_urlsafe(8)
        query = urllib.parse.urlencode(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": self.callback.base + "/signed-out",
                "state": state,
            }
        )
        self.browser.get(f"{self.discovery['end_session_endpoint']}?{query}")
        self.wait.until(lambda b: b.current_url.startswith(self.callback.base + "/signed-out"))
        returned = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.browser.current_url).query))
        check(returned.get("state") == state, f"{page}: end-session state {returned}")
        # Signed out: the next authorization shows the sign-in page again.
        client = Authlib(self.discovery, self.context["client_id"], self.redirect_uri)
        self.browser.get(client.authorization_url())
        self.field("password-form")

    def register_passkey(self, user: dict) -> None:
        self.browser.get(self.issuer + "/docs")
        self.browser.add_virtual_authenticator(
            VirtualAuthenticatorOptions(
                protocol=Protocol.CTAP2,
                transport=Transport.INTERNAL,
                has_resident_key=True,
                has_user_verification=True,
                is_user_consenting=True,
                is_user_verified=True,
            )
        )
        request = urllib.request.Request(
            self.issuer + "/api/users/me/passkeys/options",
            data=b"{}",
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {user['access_token']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            options = json.load(answer)
        registered = self.browser.execute_async_script(REGISTER, options, user["access_token"])
        check(registered.get("status") == 201, f"passkey registration: {registered}")


def main() -> int:
    context = json.loads(sys.argv[1])
    run = Run(context)
    try:
        # The TOTP code first: it is good for one step either side of the one it was made for.
        totp_user = context["totp_user"]
        totp_code, recovery_code = totp_user["codes"]
        run.sign_in("totp", Authlib, totp_user, totp_code)
        run.sign_in("totp", RequestsOauthlib, totp_user, recovery_code)
        password_user = context["password_user"]
        run.sign_in("password", Authlib, password_user)
        run.sign_in("password", RequestsOauthlib, password_user)
        passkey_user = context["passkey_user"]
        run.register_passkey(passkey_user)
        run.sign_in("passkey", Authlib, passkey_user)
        run.sign_in("passkey", RequestsOauthlib, passkey_user)
    except Failed as failure:
        print(f"failed: {failure}", file=sys.stderr)
        return 1
    finally:
        run.close()
    print(json.dumps({"flows": run.flows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
