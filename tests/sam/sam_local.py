"""Drives `sam local` (and `cargo lambda watch`) as a user would, for tests/sam/run.

    sam_local.py prepare ENDPOINT TABLE SENDER ENV_JSON PUBLIC_BASE  # table, SES identity, env file
    sam_local.py invoke-all OVERRIDES ENV_JSON              # sam local invoke, every function
    sam_local.py flow BASE_URL moto ENDPOINT json404 TABLE OVERRIDES ENV_JSON  # the user flow over
    sam_local.py flow BASE_URL outbox DIR 404 DATABASE                         # HTTP, and its jobs

Deployed, the table's stream invokes the worker function with each new job item (template.yaml's
WorkerFunction). Locally nothing does, so the flow plays the event source mapping: it reads the
new job items (moto's DynamoDB stream, or the SQLite `jobs` table under `cargo lambda watch`),
keeps what the template's filter keeps, and invokes the worker with that stream event
(`sam local invoke WorkerFunction`, or `cargo lambda invoke worker`).

Standard library plus boto3 (in the venv through moto)."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple"
VENV_BIN = Path(sys.executable).parent


# --- template.yaml -------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def functions() -> dict[str, str]:
    """Logical id -> binary name, for every function of template.yaml."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
    return {
        logical_id: resource["Metadata"]["BuildProperties"]["Binary"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


# --- prepare ---------------------------------------------------------------------------------


def prepare(endpoint: str, table: str, sender: str, env_json: str, public_base: str) -> None:
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    address = re.search(r"<([^>]+)>", sender).group(1)
    session.client("sesv2", endpoint_url=endpoint).create_email_identity(EmailIdentity=address)
    # The abuse-state hash key and the second-factor key, as template.yaml's AbuseHashKey and
    # MfaKey (generated strings); then the signing keys, as an operator makes them after a first
    # deploy (README "Deploying").
    keys_prefix = f"{table}/keys"
    for name in ("abuse-hash", "mfa"):
        session.client("secretsmanager", endpoint_url=endpoint).create_secret(
            Name=f"{keys_prefix}/{name}", SecretString=secrets.token_urlsafe(48)
        )
    operator_env = {
        "PATH": os.environ.get("PATH", ""),
        "STORE": "dynamodb",
        "TABLE_NAME": table,
        "KEYS_SECRET_PREFIX": keys_prefix,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    local = str(ROOT / "target/debug/ucontact-local")
    rotate = subprocess.run(
        [local, "keys", "rotate", "--activate-in", "0"], env=operator_env, capture_output=True, text=True
    )
    if rotate.returncode != 0 or "session keys: new key" not in rotate.stdout:
        sys.exit(f"keys rotate failed: {rotate.stdout}{rotate.stderr}")
    # The public keys travel with the deployment (the PublicKeys parameter, PUBLIC_KEYS), as the
    # README's deploy step passes them.
    public = subprocess.run([local, "keys", "public"], env=operator_env, capture_output=True, text=True)
    if public.returncode != 0 or not public.stdout.strip():
        sys.exit(f"keys public failed: {public.stdout}{public.stderr}")
    # Only variables template.yaml declares can be set this way (Globals apply to every function).
    settings = {
        # Declared in template.yaml (absent when deployed). SAM local does not evaluate the
        # template's condition on a --parameter-overrides value, so it comes through here.
        "AWS_ENDPOINT_URL": endpoint,
        # Likewise: the base of the links in emails, the start-api address.
        "PUBLIC_BASE_URL": public_base,
        "TABLE_NAME": table,
        "MAIL_FROM": sender,
        "KEYS_SECRET_PREFIX": keys_prefix,
        "PUBLIC_KEYS": public.stdout.strip(),
        "BCRYPT_COST": "4",
        "EMAIL_THROTTLE_SECONDS": "0",
        "EMAIL_DAILY_LIMIT": "1000",
        # The app the OpenID Connect events and the flow sign in to (template.yaml's OidcClients).
        "OIDC_CLIENTS": OIDC_CLIENTS,
    }
    Path(env_json).write_text(json.dumps({"Parameters": settings}, indent=2))


# The app of the OpenID Connect events (events/authorize.json...) and of the flow: the browser
# is never sent there, the flow reads the redirect.
OIDC_REDIRECT = "https://app.example.com/callback"
OIDC_CLIENTS = json.dumps([{"client_id": "web", "redirect_uris": [OIDC_REDIRECT], "name": "Example app"}])
EXPIRED_FORM = "This form has expired. Please sign in again."

# --- invoke ----------------------------------------------------------------------------------

# Per function: the event files and, for each, the expected status and a check of the body. The
# events run in this order on one fresh table, so `register` creates the user the others meet;
# the contacts and account events carry a placeholder token, so they meet the Bearer check.
UNAUTHORIZED = (401, {"detail": "Could not validate credentials"})
EXPECTED = {
    "register": [("register", 201, lambda b: b["username"] == "johndoe" and b["is_verified"] is False)],
    "login": [("login", 401, {"detail": "Email not verified"})],
    "refresh-token": [("refresh-token", 401, {"detail": "Invalid or expired refresh token"})],
    "confirm-email": [("confirm-email", 400, {"detail": "Invalid or expired verification token"})],
    "confirm-email-change": [("confirm-email-change", 400, {"detail": "Invalid or expired email change token"})],
    "request-email": [("request-email", 200, {"message": "Check your email for confirmation."})],
    "reset-password": [("reset-password", 200, {"message": "If the email exists, a reset link was sent."})],
    "reset-password-form": [("reset-password-form", 400, {"detail": "Invalid or expired reset token"})],
    "set-password": [("set-password", 400, {"detail": "Invalid or expired reset token"})],
    "logout": [("logout", 401, {"detail": "Invalid or expired refresh token"})],
    "logout-all": [("logout-all", *UNAUTHORIZED)],
    "me": [("me", *UNAUTHORIZED)],
    "change-password": [("change-password", *UNAUTHORIZED)],
    "change-email": [("change-email", *UNAUTHORIZED)],
    "delete-account": [("delete-account", *UNAUTHORIZED)],
    "list-sessions": [("list-sessions", *UNAUTHORIZED)],
    "revoke-session": [("revoke-session", *UNAUTHORIZED)],
    "mfa-status": [("mfa-status", *UNAUTHORIZED)],
    "totp-setup": [("totp-setup", *UNAUTHORIZED)],
    "totp-confirm": [("totp-confirm", *UNAUTHORIZED)],
    "totp-disable": [("totp-disable", *UNAUTHORIZED)],
    "recovery-codes": [("recovery-codes", *UNAUTHORIZED)],
    "passkey-register-options": [("passkey-register-options", *UNAUTHORIZED)],
    "passkey-register": [("passkey-register", *UNAUTHORIZED)],
    "list-passkeys": [("list-passkeys", *UNAUTHORIZED)],
    "delete-passkey": [("delete-passkey", *UNAUTHORIZED)],
    "passkey-login-options": [
        # The RP id of PUBLIC_BASE_URL (the start-api address on this machine: `localhost`).
        ("passkey-login-options", 200, lambda b: b["publicKey"]["rpId"] == "localhost" and b["challenge_token"])
    ],
    "passkey-login": [("passkey-login", 401, {"detail": "Invalid passkey"})],
    "authorize": [("authorize", 200, lambda text: 'name="csrf_token"' in text)],
    "signin": [("signin", 200, lambda text: EXPIRED_FORM in text)],
    "token": [("token", 400, lambda b: b["error"] == "invalid_grant")],
    "userinfo": [("userinfo", *UNAUTHORIZED)],
    "end-session": [("end-session", 200, lambda text: "You are signed out" in text)],
    "signin-page-asset": [("signin-page-asset", 200, lambda text: "[hidden]" in text)],
    "signup-page": [("signup-page", 200, lambda text: 'id="signup-form"' in text)],
    "signup": [("signup", 200, lambda text: EXPIRED_FORM in text)],
    "forgot-password-page": [("forgot-password-page", 200, lambda text: 'id="forgot-password-form"' in text)],
    "forgot-password": [("forgot-password", 200, lambda text: EXPIRED_FORM in text)],
    "list-contacts": [("list-contacts", *UNAUTHORIZED)],
    "create-contact": [("create-contact", *UNAUTHORIZED)],
    "get-contact": [("get-contact", *UNAUTHORIZED)],
    "update-contact": [("update-contact", *UNAUTHORIZED)],
    "delete-contact": [("delete-contact", *UNAUTHORIZED)],
    "upcoming-birthdays": [("upcoming-birthdays", *UNAUTHORIZED)],
    "health": [("health", 200, {"message": "OK"})],
    "openapi": [("openapi", 200, lambda b: b["openapi"] == "3.1.0" and "/api/users/me" in b["paths"])],
    "docs": [("docs", 200, lambda text: '<div id="swagger-ui">' in text)],
    "docs-asset": [("docs-asset", 200, lambda text: ".swagger-ui" in text)],
    "jwks": [("jwks", 200, lambda b: [k["kty"] for k in b["keys"]] == ["OKP"] and "d" not in b["keys"][0])],
    "openid-configuration": [
        ("openid-configuration", 200, lambda b: b["jwks_uri"].endswith("/.well-known/jwks.json") and b["issuer"] in b["jwks_uri"])
    ],
    "fallback": [
        ("fallback", 404, {"detail": "Not Found"}),
        ("fallback-405", 405, {"detail": "Method Not Allowed"}),
    ],
    # A stream event, not an HTTP one: its answer is the batch's failures (none).
    "worker": [("worker", None, {"batchItemFailures": []})],
}


def sam(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "sam"), *args], capture_output=True, text=True, **kwargs)


def invoke_one(logical_id: str, event: str, status: int, check, overrides: str, env_json: str) -> str | None:
    """One `sam local invoke`; None when the response is as expected, else what went wrong."""
    started = time.monotonic()
    run = sam(
        "local", "invoke", logical_id,
        "--event", f"events/{event}.json",
        "--skip-pull-image",
        "--parameter-overrides", overrides,
        "--env-vars", env_json,
        cwd=ROOT,
    )
    took = time.monotonic() - started
    # sam local invoke exits 0 even when the function crashed: judge by stdout alone.
    try:
        response = json.loads(run.stdout.strip().splitlines()[-1])
        if status is None:
            # Not an HTTP event: the answer itself is checked.
            ok = response == check
        else:
            body = response.get("body", "")
            content_type = (response.get("headers") or {}).get("content-type", "")
            parsed = json.loads(body) if content_type.startswith("application/json") else body
            ok = response.get("statusCode") == status and (check(parsed) if callable(check) else parsed == check)
    except Exception as error:  # noqa: BLE001 - reported with the whole output
        ok, response = False, f"{error!r}"
    print(f"  sam local invoke {logical_id} --event events/{event}.json: "
          f"{'ok' if ok else 'FAILED'} ({took:.1f} s)", flush=True)
    if ok:
        return None
    return f"{event}: expected {status}; got {response!r}\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-3000:]}"


def invoke_all(overrides: str, env_json: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    declared = functions()
    assert set(declared.values()) == set(EXPECTED), f"template.yaml and this test differ: {set(declared.values()) ^ set(EXPECTED)}"
    by_binary = {binary: logical for logical, binary in declared.items()}
    runs = [(by_binary[binary], *event) for binary, events in EXPECTED.items() for event in events]
    # `register` first (it creates the user the login event meets), then the rest three at a
    # time: each invoke is a container start, mostly waiting.
    failures = [invoke_one(*runs[0], overrides, env_json)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        failures += list(pool.map(lambda run: invoke_one(*run, overrides, env_json), runs[1:]))
    failures = [f for f in failures if f]
    if failures:
        raise SystemExit("sam local invoke failures:\n" + "\n\n".join(failures))


# --- the user flow over HTTP ---------------------------------------------------------------


class Http:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, body=None, form=None, token=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        try:
            return status, (json.loads(text) if text else None)
        except json.JSONDecodeError:
            return status, text


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in_with_oidc(http: Http, username: str, step) -> None:
    """One authorization code exchange, as an app and a browser would do it: the sign-in page
    (its CSRF cookie and token), the page's form posted with the password, the code from the
    303's Location, the code exchanged with the PKCE verifier, the ID token and userinfo."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    request = {
        "response_type": "code", "client_id": "web", "redirect_uri": OIDC_REDIRECT,
        "scope": "openid email profile", "state": "flow-state", "nonce": "flow-nonce",
        "code_challenge": challenge, "code_challenge_method": "S256",
    }
    opener = urllib.request.build_opener(_NoRedirects)

    def call(method: str, path: str, form=None, cookie=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        if cookie:
            headers["Cookie"] = cookie
        try:
            with opener.open(urllib.request.Request(http.base + path, data=data, method=method, headers=headers), timeout=60) as answer:
                return answer.status, answer.headers, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    status, headers, page = call("GET", "/oauth2/authorize?" + urllib.parse.urlencode(request))
    assert status == 200, f"authorize: {status} {page[:500]}"
    cookies = [c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or []]
    csrf_cookie = next((c for c in cookies if c.startswith("ucontact_csrf=")), None)
    assert csrf_cookie, f"authorize set no CSRF cookie: {cookies}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    print("  oidc sign-in page: 200", flush=True)
    form = {**request, "csrf_token": token, "username": username, "password": PASSWORD}
    status, headers, page = call("POST", "/oauth2/signin", form=form, cookie=csrf_cookie)
    assert status == 303, f"signin: {status} {page[:500]}"
    location = urllib.parse.urlsplit(headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == OIDC_REDIRECT, headers["Location"]
    query = dict(urllib.parse.parse_qsl(location.query))
    assert query["state"] == "flow-state", query
    print("  oidc sign-in form: 303 to the app with a code", flush=True)
    exchange = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": OIDC_REDIRECT,
                "client_id": "web", "code_verifier": verifier}
    tokens = step("oidc token (authorization_code)", 200, "POST", "/oauth2/token", form=exchange)
    payload = tokens["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (claims["aud"], claims["nonce"], claims["preferred_username"]) == ("web", "flow-nonce", username), claims
    info = step("oidc userinfo", 200, "GET", "/oauth2/userinfo", token=tokens["access_token"])
    assert info["preferred_username"] == username, info
    step("oidc code reused", 400, "POST", "/oauth2/token", form=exchange)


def totp(secret: str, step: int) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s) of a base32 secret, at `step`."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


# --- the event source mapping, played locally -------------------------------------------------


JOB_PATTERN = {"eventName": ["INSERT"], "prefix": "JOB#"}


def stream_record(pk: str, job_json: str, sequence: str) -> dict:
    """A job item's INSERT as Lambda delivers it from a DynamoDB stream."""
    keys = {"PK": {"S": pk}, "SK": {"S": "JOB"}}
    return {
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": keys, "NewImage": {**keys, "job": {"S": job_json}}, "SequenceNumber": sequence},
    }


class MotoStream:
    """New job items from moto's DynamoDB stream of TABLE, each invoked on the worker with
    `sam local invoke` (the event source's filter: INSERTs of `JOB#` items)."""

    def __init__(self, endpoint: str, table: str, overrides: str, env_json: str) -> None:
        import boto3

        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        self.streams = session.client("dynamodbstreams", endpoint_url=endpoint)
        arn = session.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.overrides, self.env_json = overrides, env_json

    def pump(self) -> int:
        answer = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = answer["NextShardIterator"]
        records = [
            stream_record(r["dynamodb"]["Keys"]["PK"]["S"], r["dynamodb"]["NewImage"]["job"]["S"], r["dynamodb"]["SequenceNumber"])
            for r in answer["Records"]
            if r["eventName"] in JOB_PATTERN["eventName"] and r["dynamodb"]["Keys"]["PK"]["S"].startswith(JOB_PATTERN["prefix"])
        ]
        if records:
            invoke_worker(["sam", "local", "invoke", "WorkerFunction", "--skip-pull-image",
                           "--parameter-overrides", self.overrides, "--env-vars", self.env_json], records)
        return len(records)


class SqliteJobs:
    """Jobs from the SQLite store under `cargo lambda watch`, invoked with `cargo lambda invoke`."""

    def __init__(self, database: str, base: str) -> None:
        self.database, self.seen = database, set()
        # `cargo lambda invoke` talks to the watch's runtime emulator, at the flow's address.
        address = urllib.parse.urlsplit(base)
        self.invoke = ["--invoke-address", address.hostname, "--invoke-port", str(address.port)]

    def pump(self) -> int:
        import sqlite3

        with sqlite3.connect(self.database) as db:
            rows = db.execute("SELECT id, body FROM jobs ORDER BY created_at, rowid").fetchall()
        records = [stream_record(f"JOB#{id}", body, str(n)) for n, (id, body) in enumerate(rows) if id not in self.seen]
        self.seen.update(id for id, _ in rows)
        if records:
            invoke_worker([str(VENV_BIN / "cargo-lambda"), "lambda", "invoke", *self.invoke, "worker"], records)
        return len(records)


def invoke_worker(command: list[str], records: list[dict]) -> None:
    event = ROOT / "target/sam/worker-event.json"
    event.write_text(json.dumps({"Records": records}))
    flag = "--event" if command[0] == "sam" else "--data-file"
    if command[0] == "sam":
        command[0] = str(VENV_BIN / "sam")
    run = subprocess.run([*command, flag, str(event)], capture_output=True, text=True, cwd=ROOT)
    lines = run.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if lines else None
    assert answer == {"batchItemFailures": []}, f"the worker failed: {run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    print(f"  worker: {len(records)} job(s) done", flush=True)


def moto_link(endpoint: str, to: str, marker: str) -> str:
    for _ in range(50):
        with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as answer:
            state = json.load(answer)
        text = json.dumps(state.get("ses", {}))
        match = re.findall(rf"https?://[^\s\"<\\]*{re.escape(marker)}[^\s\"<\\]+", text)
        if to in text and match:
            return match[-1]
        time.sleep(0.2)
    raise AssertionError(f"no email to {to} with {marker} in moto")


def outbox_link(directory: str, to: str, marker: str) -> str:
    for _ in range(50):
        for path in sorted(Path(directory).glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to in str(message["To"]):
                text = message.get_body(preferencelist=("plain",)).get_content()
                match = re.search(rf"\S*{re.escape(marker)}\S+", text)
                if match:
                    return match.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no email to {to} with {marker} in {directory}")


def flow(base: str, mail: str, where: str, unknown_status: int | None, json_errors: bool, jobs) -> None:
    http = Http(base)
    suffix = str(int(time.time() * 1000))
    username, address = f"flow{suffix}", f"flow{suffix}@example.com"
    timings = []

    def step(name, expected, *args, **kwargs):
        started = time.monotonic()
        status, body = http.call(*args, **kwargs)
        timings.append(time.monotonic() - started)
        assert status == expected, f"{name}: {status} {body}"
        print(f"  {name}: {status}", flush=True)
        return body

    user = step("register", 201, "POST", "/api/auth/register", body={"username": username, "email": address, "password": PASSWORD})
    assert user["username"] == username
    # Earlier jobs of the table (the invoke phase's) run too: harmless, and the worker runs them.
    assert jobs.pump() >= 1, "register wrote no job"
    link = (moto_link if mail == "moto" else outbox_link)(where, address, "/api/auth/confirmed_email/")
    assert link.startswith(http.base + "/api/auth/confirmed_email/"), f"the email links elsewhere: {link}"
    token = link.rsplit("/", 1)[1]
    confirmed = step("confirm email", 200, "GET", f"/api/auth/confirmed_email/{token}")
    assert confirmed == {"message": "Email verified successfully"}
    tokens = step("login", 200, "POST", "/api/auth/login", form={"username": username, "password": PASSWORD})
    me = step("me", 200, "GET", "/api/users/me", token=tokens["access_token"])
    assert (me["username"], me["is_verified"]) == (username, True)
    step("me without a token", 401, "GET", "/api/users/me")
    tokens = step("refresh", 200, "POST", "/api/auth/refresh-token", body={"refresh_token": tokens["refresh_token"]})
    access = tokens["access_token"]
    contact = {"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com", "birthday": "1990-12-31"}
    created = step("create contact", 201, "POST", "/api/contacts", body=contact, token=access)
    listed = step("list contacts", 200, "GET", "/api/contacts", token=access)
    assert [c["id"] for c in listed] == [created["id"]]
    contact["description"] = "Met at RustConf"
    updated = step("update contact", 200, "PUT", f"/api/contacts/{created['id']}", body=contact, token=access)
    assert updated["description"] == "Met at RustConf"
    step("delete contact", 200, "DELETE", f"/api/contacts/{created['id']}", token=access)
    step("get the deleted contact", 404, "GET", f"/api/contacts/{created['id']}", token=access)
    step("logout", 204, "POST", "/api/auth/logout", body={"refresh_token": tokens["refresh_token"]})
    step("refresh after logout", 401, "POST", "/api/auth/refresh-token", body={"refresh_token": tokens["refresh_token"]})
    sign_in_with_oidc(http, username, step)
    # Two-factor authentication on, then a login that needs a code (RFC 6238, computed here as an
    # authenticator app would; steps now-1 and now are both accepted, each once).
    access = step("login for TOTP", 200, "POST", "/api/auth/login", form={"username": username, "password": PASSWORD})["access_token"]
    setup = step("totp setup", 200, "POST", "/api/users/me/mfa/totp", body={"password": PASSWORD}, token=access)
    now = int(time.time()) // 30
    codes = step("totp confirm", 200, "POST", "/api/users/me/mfa/totp/confirm", body={"code": totp(setup["secret"], now - 1)}, token=access)
    assert len(codes["recovery_codes"]) == 10, codes
    required = step("login without a code", 401, "POST", "/api/auth/login", form={"username": username, "password": PASSWORD})
    assert required == {"detail": "Two-factor code required"}, required
    tokens = step("login with a TOTP code", 200, "POST", "/api/auth/login",
                  form={"username": username, "password": PASSWORD, "otp": totp(setup["secret"], now)})
    payload = tokens["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["amr"] == ["pwd", "otp"], claims
    if unknown_status is not None:
        body = step("unknown path", unknown_status, "GET", "/api/no-such-route")
        if json_errors:
            assert body == {"detail": "Not Found"}, body
    timings.sort()
    print(f"  flow: {len(timings)} requests, median {timings[len(timings) // 2] * 1000:.0f} ms, "
          f"slowest {timings[-1] * 1000:.0f} ms", flush=True)


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "prepare":
        prepare(*args)
    elif command == "invoke-all":
        invoke_all(*args)
    elif command == "flow":
        base, mail, where, unknown, *source = args
        jobs = MotoStream(where, *source) if mail == "moto" else SqliteJobs(*source, base)
        # "json404": the contract's JSON 404; "404": any 404 (cargo-lambda watch's own text).
        flow(base, mail, where, int(unknown.removeprefix("json")), unknown.startswith("json"), jobs)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
