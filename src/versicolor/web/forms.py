"""Reading a dashboard form: URL-encoded, bounded, one value per name; anything else is refused plainly."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_BYTES = 16 * 1024
MAX_FIELDS = 64
MAX_VALUE = 4096


class FormProblem(Exception):
    """A body that is not a form the dashboard sends; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def read(request: Request) -> dict[str, str]:
    """The request's form fields; raises FormProblem."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise FormProblem("The dashboard's forms are sent as application/x-www-form-urlencoded; this was not.")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BYTES):
        raise FormProblem(f"The form is over {MAX_BYTES // 1024} KB.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BYTES:
            raise FormProblem(f"The form is over {MAX_BYTES // 1024} KB.")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except UnicodeDecodeError as exc:
        raise FormProblem("The form is not valid UTF-8.") from exc
    except ValueError as exc:
        raise FormProblem(f"The form has more than {MAX_FIELDS} fields or is malformed.") from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise FormProblem(f"The form gives {name[:64]!r} more than once.")
        if len(value) > MAX_VALUE or "\x00" in value:
            raise FormProblem(f"The form's {name[:64]!r} is over {MAX_VALUE} characters or holds a NUL.")
        fields[name] = value
    return fields
