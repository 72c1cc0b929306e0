"""`/openapi.json` from outside: a valid OpenAPI 3.1 document (openapi-spec-validator), from which
openapi-python-client generates a client that registers, logs in and reads `/api/users/me`, as
the README's "API reference" tells users to do."""

import importlib
import os
import json
import subprocess
import sys
from pathlib import Path

from openapi_spec_validator import validate

from localserver import PASSWORD, ROOT

VENV_BIN = Path(sys.executable).parent


def test_the_document_is_valid_openapi_3_1(server):
    status, text = server.request("GET", "/openapi.json")
    assert status == 200
    document = json.loads(text)
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_a_generated_python_client_registers_logs_in_and_reads_me(server, tmp_path):
    status, text = server.request("GET", "/openapi.json")
    assert status == 200
    (tmp_path / "openapi.json").write_bytes(text)
    # The README's command (its ruff post-hook is found on the PATH, as the README sets it).
    templates = ROOT / "docs" / "clients" / "openapi-python-client"
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    generated = subprocess.run(
        ["openapi-python-client", "generate", "--path", "openapi.json", "--meta", "none",
         "--custom-template-path", str(templates)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout + generated.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        client_package = importlib.import_module("u_contact_client")
        register = importlib.import_module("u_contact_client.api.auth.register")
        login = importlib.import_module("u_contact_client.api.auth.login")
        me = importlib.import_module("u_contact_client.api.users.me")
        models = importlib.import_module("u_contact_client.models")
    finally:
        sys.path.remove(str(tmp_path))

    client = client_package.Client(base_url=server.base, raise_on_unexpected_status=True)
    created = register.sync(
        client=client,
        body=models.RegisterIn(username="generated", email="generated@example.com", password=PASSWORD),
    )
    assert isinstance(created, models.User), created
    assert (created.username, created.is_verified) == ("generated", False)
    taken = register.sync_detailed(
        client=client,
        body=models.RegisterIn(username="generated", email="other@example.com", password=PASSWORD),
    )
    assert taken.status_code == 409
    assert taken.parsed.detail == "User with this username already exists"

    server.verify("generated@example.com")
    tokens = login.sync(client=client, body=models.LoginForm(username="generated", password=PASSWORD))
    assert isinstance(tokens, models.Token), tokens
    assert tokens.token_type == "bearer"

    signed_in = client_package.AuthenticatedClient(base_url=server.base, token=tokens.access_token)
    user = me.sync(client=signed_in)
    assert isinstance(user, models.User), user
    assert (user.id, user.username, user.is_verified) == (created.id, "generated", True)
    refused = me.sync_detailed(client=client_package.AuthenticatedClient(base_url=server.base, token="x.y.z"))
    assert refused.status_code == 401
    assert refused.parsed.detail == "Could not validate credentials"
