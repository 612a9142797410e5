"""What the bytes of a JSON body must be: UTF-8 (RFC 8259 §8.1), whichever API they were sent to."""

from __future__ import annotations


def not_utf8(body: bytes) -> str | None:
    """Why `body` is not JSON text in UTF-8, said for the person who sent it, or None when it is."""
    # Python's JSON decoder, given bytes, guesses UTF-16 or UTF-32 from the first bytes and decodes UTF-8-encoded
    # surrogates; both must be refused before it sees them. A UTF-16 or UTF-32 body of ASCII text is valid UTF-8
    # byte for byte, but holds NUL bytes, which JSON text in UTF-8 never does (a NUL must be escaped, \u0000).
    if body.isascii():
        nul = body.find(b"\x00")
        if nul == -1:
            return None
        return f"the body is not UTF-8 (a NUL byte at byte {nul}: UTF-16 or UTF-32?); send JSON encoded as UTF-8"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the body is not valid UTF-8 (byte {exc.start}); send JSON encoded as UTF-8"
    return None
