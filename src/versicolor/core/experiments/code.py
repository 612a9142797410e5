"""Customer code (JavaScript, CSS): kept exactly as sent, within a size limit."""

from __future__ import annotations

from versicolor.core.errors import Invalid
from versicolor.db.types import unstorable

MAX_CODE_BYTES = 256 * 1024


def check(field: str, code: str | None) -> str | None:
    """`code` unchanged, or Invalid naming `field` when it is over 256 KiB or cannot be stored as sent."""
    if code is None:
        return None
    # Refused on every backend (PostgreSQL alone could not store a NUL) to keep "stored exactly as sent" true.
    problem = unstorable(code)
    if problem:
        raise Invalid.field(field, problem)
    size = len(code.encode("utf-8"))
    if size > MAX_CODE_BYTES:
        raise Invalid.field(field, f"is {size} bytes of UTF-8; the limit is {MAX_CODE_BYTES} bytes (256 KiB)")
    return code
