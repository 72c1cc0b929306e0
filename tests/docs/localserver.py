"""Runs the real `ucontact-local` binary for the Python tests (browser, fuzzing, generated client):
on port 0, with its own data dir, a low bcrypt cost and no email spacing, and gives a verified
user to log in with. Standard library only."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import time
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple"


def binary() -> Path:
    path = Path(os.environ.get("UCONTACT_LOCAL_BIN", ROOT / "target" / "debug" / "ucontact-local"))
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: build it first (cargo build -p ucontact-local)")
    return path


class LocalServer:
    def __init__(self, **settings: str) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="ucontact-py-")
        self.data_dir = Path(self._dir.name)
        env = dict(os.environ)
        env.update(
            {
                "PORT": "0",
                "UCONTACT_DATA_DIR": str(self.data_dir),
                "BCRYPT_COST": "4",
                "EMAIL_THROTTLE_SECONDS": "0",
                "EMAIL_DAILY_LIMIT": "10000",
                "RUST_LOG": "warn",
            }
        )
        env.update(settings)
        self.log = open(self.data_dir / "server.log", "wb")
        self.process = subprocess.Popen(
            [str(binary())], env=env, stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"ucontact-local did not start: {line!r}; log: {self.log_text()}")
        self.base = match.group(1)

    def log_text(self) -> str:
        self.log.flush()
        return (self.data_dir / "server.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.log.close()
        self._dir.cleanup()

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def verified_user(self, username: str, address: str) -> None:
        body = json.dumps({"username": username, "email": address, "password": PASSWORD}).encode()
        status, text = self.request("POST", "/api/auth/register", body, {"Content-Type": "application/json"})
        assert status == 201, (status, text)
        self.verify(address)

    def verify(self, address: str) -> None:
        """Follows the link of the verification email sent to `address`."""
        link = self._verification_link(address)
        status, text = self.request("GET", urllib.parse.urlsplit(link).path)
        assert status == 200, (status, text)

    def _verification_link(self, address: str) -> str:
        # The email is written by a job right after the answer: wait for it a little.
        for _ in range(100):
            for path in sorted((self.data_dir / "outbox").glob("*.eml")):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if message["To"] and address in message["To"]:
                    text = message.get_body(preferencelist=("plain",)).get_content()
                    match = re.search(r"\S*/api/auth/confirmed_email/\S+", text)
                    if match:
                        return match.group(0)
            time.sleep(0.05)
        raise AssertionError(f"no verification email to {address} in the outbox")

    def access_token(self, username: str) -> str:
        form = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
        status, text = self.request(
            "POST", "/api/auth/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 200, (status, text)
        return json.loads(text)["access_token"]
