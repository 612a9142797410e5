"""Customer code (JavaScript, CSS): kept exactly as sent, within a size limit."""

from __future__ import annotations

from versicolor.core.errors import Invalid

MAX_CODE_BYTES = 256 * 1024


def check(field: str, code: str | None) -> str | None:
    """`code` unchanged, or Invalid naming `field` when it is over 256 KiB or cannot be stored as sent."""
    if code is None:
        return None
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError:
        raise Invalid.field(
            field, "contains an unpaired surrogate escape (\\ud800-\\udfff); send valid Unicode"
        ) from None
    if size > MAX_CODE_BYTES:
        raise Invalid.field(field, f"is {size} bytes of UTF-8; the limit is {MAX_CODE_BYTES} bytes (256 KiB)")
    if "\x00" in code:
        # PostgreSQL text cannot hold NUL; refusing it on every backend keeps "stored exactly as sent" true.
        raise Invalid.field(field, "contains a NUL character (\\u0000), which cannot be stored")
    return code
