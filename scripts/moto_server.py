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


def cheap_transaction_rollback() -> None:
    """moto backs up every table a TransactWriteItems names (a deepcopy, stream included) to roll
    a cancelled one back: seconds per transaction once a table holds tens of thousands of items
    (tests/contract/account_purge.rs seeds 20,000), past the SDK's timeouts. Requests run one at a
    time here, so backing up only the items the transaction names, and the length of their
    table's stream, rolls it back exactly as DynamoDB would leave it (no stream record of a
    cancelled transaction), at the cost of those few items."""
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    real_deepcopy = copy.deepcopy
    # moto's own backup becomes the table itself (its "restore" is then a no-op); ours is below.
    models.copy = types.SimpleNamespace(
        deepcopy=lambda value, *args: value if isinstance(value, Table) else real_deepcopy(value, *args)
    )
    transact = models.DynamoDBBackend.transact_write_items

    def keys_of(backend, transact_items):
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            attrs = op.get("Item") or op.get("Key") or {}
            hash_key = attrs.get(table.hash_key_attr)
            if hash_key is None:
                continue
            range_key = attrs.get(table.range_key_attr) if table.range_key_attr else None
            yield table, DynamoType(hash_key), DynamoType(range_key) if range_key else None

    def transact_write_items(self, transact_items):
        backup = []
        streams = {}
        for table, hash_key, range_key in keys_of(self, transact_items):
            try:
                item = table.get_item(hash_key, range_key)
            except Exception:  # noqa: BLE001 - a bad key is moto's to report
                item = None
            backup.append((table, hash_key, range_key, real_deepcopy(item)))
            if table.stream_shard is not None:
                streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(backup):
                if table.has_range_key:
                    if item is None:
                        table.items.get(hash_key, {}).pop(range_key, None)
                    else:
                        table.items[hash_key][range_key] = item
                elif item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cheap_transaction_rollback()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
