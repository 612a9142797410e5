"""Secrets never reach logs: every line, the access log's too, has its credentials masked.

The attack this pins: `?account_secret=` is accepted on /v3 (the public service takes it) and the access log
used to record it in clear, so anyone reading logs could act as the account.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.server import invoke_cli, serve
from versicolor.logs import MASK, RedactSecrets, redact

JWT = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiYWlkIjoxfQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ('"GET /v3/edit/urls?account_secret=S3cr3tValue&limit=5 HTTP/1.1" 200', "S3cr3tValue"),
        ("POST /oauth/token?grant_type=client_credentials&client_secret=abcDEF123-_x", "abcDEF123-_x"),
        ("redirect to https://partner.example/cb?code=Zm9vYmFyYmF6cXV4&state=xyz", "Zm9vYmFyYmF6cXV4"),
        ("Authorization: Bearer " + JWT, JWT),
        ("Authorization: Basic Y2xpZW50OnNlY3JldHNlY3JldA==", "Y2xpZW50OnNlY3JldHNlY3JldA=="),
        ("headers: X-Account-Secret: hunter2hunter2", "hunter2hunter2"),
        ('{"clientSecret": "a\\"b-secret", "email": "x@example.com"}', 'a\\"b-secret'),
        ('{"password": "correct horse", "refresh_token": "rt-123456"}', "correct horse"),
        ("token seen: " + JWT, JWT),
        ("?accountSecret=camelCaseSecret", "camelCaseSecret"),
    ],
)
def test_redact_masks_credentials(line: str, secret: str) -> None:
    masked = redact(line)
    assert secret not in masked and MASK in masked, masked


def test_redact_keeps_what_is_not_a_secret() -> None:
    for line in (
        '"GET /v3/edit/urls?limit=5&before=65f0aa00aa00aa00aa00aa00 HTTP/1.1" 200',
        "error_code=42 state=xyz grant_type=client_credentials",
        "missing Authorization header: send Authorization: Bearer <access token>",
    ):
        assert redact(line) == line


def test_the_filter_masks_arguments_and_tracebacks_and_keeps_the_record() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', None, None)
    record.args = ("198.51.100.1:5", "GET", "/v3/edit/urls?account_secret=topsecret99", "1.1", 200)
    try:
        raise ValueError("bad token " + JWT)
    except ValueError:
        record.exc_info = sys.exc_info()
    assert RedactSecrets().filter(record) is True
    assert isinstance(record.args, tuple) and record.args[4] == 200
    text = logging.Formatter().format(record)
    assert "topsecret99" not in text and JWT not in text and "ValueError" in text


@pytest.mark.server
def test_a_running_server_logs_no_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/logs.db"
    email = f"l-{uuid.uuid4().hex[:6]}@example.com"
    created = invoke_cli(["accounts", "create", "--name", "Logs", "--email", email, "--json", "--database-url", url])
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    with serve(["--database-url", url], log_dir=tmp_path) as server, httpx.Client(base_url=server.base_url) as http:
        secret = account["accountSecret"]
        listed = http.get("/v3/edit/urls", params={"account_secret": secret})
        assert listed.status_code == 200, listed.text
        refused = http.post(
            "/oauth/token",
            params={"client_id": account["clientId"], "client_secret": account["clientSecret"]},
            data={"grant_type": "client_credentials"},
        )
        assert refused.status_code == 400
        token = http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": account["clientId"],
                "client_secret": account["clientSecret"],
            },
        ).json()["access_token"]
        http.get("/sites", params={"access_token": token})
    log = server.output()
    assert "GET /v3/edit/urls?account_secret=" in log  # the access log did record the request...
    for value in (secret, account["clientSecret"], token):
        assert value not in log  # ... but none of the secrets
    assert MASK in log
