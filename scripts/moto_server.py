#!/usr/bin/env python3
"""moto's server, letting one request at a time into the emulator.

DynamoDB applies each conditional write and each TransactWriteItems atomically. moto's threaded
server does not: two concurrent requests can both pass the same condition (two "successful"
rotations of one refresh token were seen under load). This runs moto's own WSGI app on its own
threaded server, but lets one AWS API request at a time in, so that the emulator keeps
DynamoDB's guarantee and the concurrency tests exercise UContact, not moto's races. moto's own
/moto-api/ endpoints (the state dump the tests read sent emails from) stay outside the lock: they
only read, and a slow dump must not hold up API calls (readers retry a dump that failed).

Usage: .venv/bin/python scripts/moto_server.py [HOST] [PORT]   (default 127.0.0.1 5000)
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class OneAtATime:
    """A WSGI middleware that runs AWS API requests, body included, under one lock."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/moto-api/"):
            return self.app(environ, start_response)
        with self.lock:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
