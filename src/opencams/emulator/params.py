"""Request bodies and write parameters: JSON, form and multipart decoding, and Graph's type checks.

Graph takes a POST's parameters from the query string and the body alike, and Meta's SDK sends
lists and booleans JSON-encoded inside form fields; these helpers accept every such spelling
and answer a wrong one with Graph's code-100 wording.
"""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from .context import GraphRequest
from .errors import GraphError, required_param

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def parse_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    """Return the parameters a request body carries; anything undecodable carries none."""
    if not body:
        return {}
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:
            parsed = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return parsed if isinstance(parsed, dict) else {}
    if media == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            # curl --data-binary sends files with this type; the upload route reads the raw body
            return {}
        return dict(parse_qsl(text, keep_blank_values=True))
    if media == "multipart/form-data":
        return _multipart(content_type or "", body)
    return {}


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    # The stdlib MIME parser reads multipart/form-data once it has the Content-Type header.
    fields: dict[str, Any] = {}
    try:
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        parts = list(message.iter_parts()) if message.is_multipart() else []
        for part in parts:
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = payload.decode("utf-8", errors="replace")
    except (ValueError, TypeError, LookupError):
        # A body that is not the multipart it claims to be carries no parameters.
        return {}
    return fields


def text(request: GraphRequest, name: str, *, required: bool = False) -> str | None:
    """Return a string parameter (numbers are taken as their decimal text)."""
    value = request.arg(name)
    if required and (value is None or value == ""):
        raise required_param(name)
    if value is None:
        return None
    if isinstance(value, bool | list | dict):
        raise GraphError(100, f"(#100) Param {name} must be a string")
    return str(value)


def boolean(request: GraphRequest, name: str) -> bool | None:
    """Return a boolean parameter given as true/false (JSON or text), 1/0, or None."""
    value = request.arg(name)
    if value is None or isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise GraphError(100, f"(#100) Param {name} must be a boolean")


def string_list(request: GraphRequest, name: str, *, comma_separated: bool = False) -> list[str] | None:
    """Return a list-of-strings parameter: a JSON array, JSON array text, or (optionally) `a,b`."""
    value = request.arg(name)
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                raise GraphError(100, f"(#100) Param {name} must be an array of strings") from None
        elif comma_separated:
            value = [item.strip() for item in stripped.split(",") if item.strip()]
        else:
            raise GraphError(100, f"(#100) Param {name} must be an array of strings")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise GraphError(100, f"(#100) Param {name} must be an array of strings")
    return list(value)
