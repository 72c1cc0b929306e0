"""Schema-driven fuzzing: schemathesis against a fresh local server, from its own /openapi.json,
every operation, with a verified user's bearer token on every request (so the guarded
operations get past authentication). Run by scripts/test; by hand:

    .venv/bin/python tests/docs/fuzz.py [--max-examples N] [--seed S]

Checks (and why no others) are in README.md, "Tests". Exits with schemathesis' status."""

import argparse
import subprocess
import sys
from pathlib import Path

from localserver import LocalServer

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--max-time", type=int, default=150, help="seconds for the whole run")
    args = parser.parse_args()

    server = LocalServer()
    try:
        server.verified_user("fuzzer", "fuzzer@example.com")
        token = server.access_token("fuzzer")
        command = [
            str(Path(sys.executable).parent / "st"),
            "run",
            f"{server.base}/openapi.json",
            "--checks", ",".join(CHECKS),
            "--max-examples", str(args.max_examples),
            "--seed", str(args.seed),
            "--max-time", str(args.max_time),
            "--header", f"Authorization: Bearer {token}",
            "--request-timeout", "10",
            # One worker: with two, schemathesis parses sources in two threads at once, and
            # CPython 3.11's ast module keeps one recursion counter for both (cpython gh-106905):
            # a CI run died on "SystemError: AST constructor recursion depth mismatch".
            "--workers", "1",
            "--warnings", "off",
        ]
        shown = ["'Authorization: Bearer …'" if "Bearer" in part else part for part in command[1:]]
        print("fuzz: st", " ".join(shown), flush=True)
        status = subprocess.run(command).returncode
        if status != 0:
            print("fuzz: the server's log follows", file=sys.stderr)
            print(server.log_text()[-4000:], file=sys.stderr)
        return status
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
