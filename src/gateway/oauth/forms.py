"""Request bodies of the back-channel endpoints (`/oauth/token`, `/revoke`, `/introspect`), parsed by hand.

RFC 6749 §3.2 and RFC 7009 §2.1 / RFC 7662 §2.1 say these bodies are `application/x-www-form-urlencoded`
(UTF-8, RFC 6749 Appendix B). FastAPI's `Form` would answer mistakes with 422 problem+json; here every
mistake is an RFC 6749 §5.2 `invalid_request` instead. The rules:

- the media type must be `application/x-www-form-urlencoded` (a `charset` parameter, if any, UTF-8);
- the body is at most `MAX_FORM_BYTES` and `MAX_FIELDS` fields, and is percent-encoded ASCII whose
  decoded values are valid UTF-8 without control characters;
- a parameter given twice is refused (RFC 6749 §3.1, §3.2: "Request and response parameters MUST NOT be
  included more than once"), even when it is one this endpoint does not use;
- a parameter sent without a value is treated as omitted (RFC 6749 §3.1);
- parameters this gateway does not know are ignored (RFC 6749 §3.1: "The authorization server MUST
  ignore unrecognized request parameters"), so a client library that adds its own extras still works.

Error descriptions never quote the request: only fixed text and the names of parameters we define.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.message import Message
from typing import Final
from urllib.parse import parse_qsl

from fastapi import Request

from gateway.oauth.errors import InvalidRequest

FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
MAX_FORM_BYTES: Final = 16 * 1024
"""Far above any honest request (a code exchange is ~400 bytes, a JWT to introspect ~800)."""
MAX_FIELDS: Final = 32
MAX_VALUE_LENGTH: Final = 4096
"""Per value; the longest legitimate one is an access token (~800 characters) or a redirect URI (2000)."""

# Names we may quote back (RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E).
KNOWN_PARAMETERS: Final = frozenset(
    {
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "client_id",
        "client_secret",
        "token",
        "token_type_hint",
    }
)

# Percent-encoded form bodies are printable ASCII; decoded values must not carry control characters.
_BODY_CHARACTERS: Final = re.compile(rb"[\x20-\x7e]*")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def is_form_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    parsed = Message()
    parsed["content-type"] = content_type
    if parsed.get_content_type() != FORM_MEDIA_TYPE:
        return False
    charset = parsed.get_param("charset")
    return charset is None or (isinstance(charset, str) and charset.lower() in {"utf-8", "utf8"})


async def read_form(request: Request) -> dict[str, str]:
    """The request's form parameters by name (values non-empty), or `InvalidRequest`."""
    if not is_form_media_type(request.headers.get("content-type")):
        raise InvalidRequest(f"Send the request body as {FORM_MEDIA_TYPE} (RFC 6749 section 3.2).")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise InvalidRequest(f"The request body is larger than {MAX_FORM_BYTES} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidRequest(f"The request body is larger than {MAX_FORM_BYTES} bytes.")
    return parse_form(bytes(body))


def parse_form(body: bytes) -> dict[str, str]:
    """Parse a form body by the rules above (pure; `read_form` checks the media type and size first)."""
    if len(body) > MAX_FORM_BYTES:
        raise InvalidRequest(f"The request body is larger than {MAX_FORM_BYTES} bytes.")
    if not _BODY_CHARACTERS.fullmatch(body):
        raise InvalidRequest("The form body must be percent-encoded ASCII (RFC 6749 appendix B).")
    try:
        pairs = parse_qsl(
            body.decode("ascii"), keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict"
        )
    except UnicodeDecodeError:
        raise InvalidRequest("The form is not valid UTF-8 once percent-decoded.") from None
    except ValueError:
        raise InvalidRequest(f"The form has more than {MAX_FIELDS} parameters.") from None
    form: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen:
            shown = name if name in KNOWN_PARAMETERS else "a parameter"
            raise InvalidRequest(f"{shown} is given more than once (RFC 6749 section 3.1).")
        seen.add(name)
        if name not in KNOWN_PARAMETERS or value == "":
            continue  # unrecognised parameters are ignored; an empty one counts as omitted
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidRequest(f"{name} is longer than {MAX_VALUE_LENGTH} characters.")
        if _CONTROL.search(value):
            raise InvalidRequest(f"{name} holds control characters.")
        form[name] = value
    return form


def required(form: Mapping[str, str], name: str) -> str:
    """The parameter's value, or `InvalidRequest` naming it (`name` must be one we define)."""
    value = form.get(name)
    if value is None:
        raise InvalidRequest(f"The {name} parameter is required.")
    return value
