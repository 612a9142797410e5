"""How the service logs: uvicorn's configuration, with credentials masked out of every line.

Clients may put secrets where logs see them: `?account_secret=` on `/v3` (the public service accepts it, and
scripts use it), a client secret in the query of `/oauth/token` (refused, but its request line is still
logged), an authorization `code` in a redirect, a token in an error's message. `RedactSecrets` is attached
to every handler, so each record is masked once, whichever logger wrote it (the access log included), before
any formatter or destination sees it: the values of secret-named parameters and JSON fields, bearer and
basic credentials, and anything shaped like a JWT become `[REDACTED]`.
"""

from __future__ import annotations

import logging
import re
from copy import deepcopy
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


def config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with `RedactSecrets` on every handler, and Versicolor's own loggers
    written by the same handler as uvicorn's."""
    settings = deepcopy(LOGGING_CONFIG)
    settings["filters"] = {"redact_secrets": {"()": f"{__name__}.RedactSecrets"}}
    for handler in settings["handlers"].values():
        handler["filters"] = ["redact_secrets"]
    settings["loggers"]["versicolor"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return settings
