"""How the service logs: uvicorn's configuration, with credentials masked out of every line.

Clients may put secrets where logs see them: `?account_secret=` on `/v3` (the public service accepts it, and
scripts use it), a client secret in the query of `/oauth/token` (refused, but its request line is still
logged), an authorization `code` in a redirect, a token in an error's message. `RedactSecrets` is attached
to every handler, so each record is masked once, whichever logger wrote it (the access log included), before
any formatter or destination sees it: the values of secret-named parameters and JSON fields, bearer and
basic credentials, and anything shaped like a JWT become `[REDACTED]`.

Two formats, the same masking: `text` (uvicorn's lines) and `json` (VERSICOLOR_LOG_FORMAT=json), one object a
line for a log collector, with the request id each answer carries in `X-Request-Id` and, for the access log,
the request's parts as fields of their own. The filter runs before either formatter, so a formatter only ever
sees masked text.
"""

from __future__ import annotations

import json
import logging
import re
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from uvicorn.config import LOGGING_CONFIG

MASK = "[REDACTED]"

# Names whose values are credentials, in a query string, a form, a header or a JSON body (snake and camel case).
_NAMES = (
    r"account[_-]?secret|client[_-]?secret|secret|password|passwd|new[_-]?password|current[_-]?password"
    r"|access[_-]?token|refresh[_-]?token|id[_-]?token|token|code|code[_-]?verifier|api[_-]?key|callback[_-]?key"
    r"|signing[_-]?key|session"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # name=value in a query string or a form body (also percent-encoded in the value)
    (re.compile(rf"(?i)(?<![A-Za-z0-9_])({_NAMES})=([^&\s\"'#;,]+)"), rf"\1={MASK}"),
    # "name": "value" in JSON
    (re.compile(rf"(?i)(\"(?:{_NAMES})\"\s*:\s*)\"(?:[^\"\\]|\\.)*\""), rf'\1"{MASK}"'),
    # Authorization: Bearer x / Basic x, and X-Account-Secret: x
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    (re.compile(r"(?i)(x-account-secret['\"]?\s*[:=,]\s*['\"]?)[^\s'\",)]+"), rf"\1{MASK}"),
    # a JWT anywhere (header.payload.signature, base64url, the header starting {" )
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
)


def redact(text: str) -> str:
    """`text` with every credential it shows masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _masked(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """Masks credentials in a record's message, arguments and traceback (keeps the record: never drops it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        colored = record.__dict__.get("color_message")
        if isinstance(colored, str):
            record.__dict__["color_message"] = redact(colored)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request id, and a traceback if any.

    uvicorn's access records carry (client, method, path, HTTP version, status) as their arguments; those
    become fields `client`, `method`, `path` and `status` beside the message."""

    def format(self, record: logging.LogRecord) -> str:
        # Imported here: the request id is the API's, and the command line loads this module without the API.
        from versicolor.api.request_ids import current_request_id

        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id != "-":
            line["requestId"] = request_id
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            line.update(client=client, method=method, path=path, status=status)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def config(level: str, log_format: str = "text") -> dict[str, Any]:
    """uvicorn's logging configuration with `RedactSecrets` on every handler, and Versicolor's own loggers
    written by the same handler as uvicorn's; `log_format` json writes every line with `JsonLines`."""
    settings = deepcopy(LOGGING_CONFIG)
    settings["filters"] = {"redact_secrets": {"()": f"{__name__}.RedactSecrets"}}
    for handler in settings["handlers"].values():
        handler["filters"] = ["redact_secrets"]
    if log_format == "json":
        settings["formatters"] = {"json": {"()": f"{__name__}.JsonLines"}}
        for handler in settings["handlers"].values():
            handler["formatter"] = "json"
    settings["loggers"]["versicolor"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return settings
