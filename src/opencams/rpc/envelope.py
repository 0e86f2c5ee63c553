"""Response envelopes: success and error bodies in JSON or XML, each with its RequestId.

The only place that writes a response body; see cams.md §3.2 and alibaba-rpc.md §4.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from xml.sax.saxutils import escape

from starlette.responses import Response

from ..errors import ApiError

JSON_TYPE = "application/json;charset=utf-8"
# The new SDK parses XML errors only for exactly this content type (alibaba-rpc.md §4).
XML_TYPE = "text/xml;charset=utf-8"
PRODUCT = "cams"
# Characters XML 1.0 cannot carry even escaped; a stored value holding one must not break the document.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def new_request_id() -> str:
    """A fresh RequestId in Alibaba's uppercase UUID form."""
    return str(uuid.uuid4()).upper()


def _xml_value(name: str, value: Any) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml_value(k, v) for k, v in value.items() if v is not None)
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, list):
        # A JSON array becomes the element repeated once per item, as POP's XML form does.
        return "".join(_xml_value(name, item) for item in value)
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = _NOT_XML.sub("\ufffd", str(value))
    return f"<{name}>{escape(text)}</{name}>"


def to_xml(root: str, body: dict[str, Any]) -> bytes:
    """The XML form of a response body under `root`."""
    inner = "".join(_xml_value(k, v) for k, v in body.items() if v is not None)
    return f'<?xml version="1.0" encoding="UTF-8"?><{root}>{inner}</{root}>'.encode()


def _response(body: dict[str, Any], status: int, fmt: str, root: str, request_id: str) -> Response:
    headers = {"x-acs-request-id": request_id}
    if fmt == "XML":
        return Response(to_xml(root, body), status, headers=headers, media_type=XML_TYPE)
    # "replace": a lone surrogate (JSON from Meta may escape one) must not turn an answer into a 500.
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    return Response(payload, status, headers=headers, media_type=JSON_TYPE)


def success(action: str, result: dict[str, Any], *, request_id: str, fmt: str = "JSON") -> Response:
    """HTTP 200 with RequestId first, then the action's result."""
    body = {"RequestId": request_id, **result}
    return _response(body, 200, fmt, f"{action}Response", request_id)


def error_body(err: ApiError, *, request_id: str, host: str) -> dict[str, Any]:
    """The five standard error fields plus whatever the error adds (AccessDeniedDetail)."""
    return {
        "RequestId": request_id,
        "HostId": host,
        "Code": err.code,
        "Message": err.message,
        "Recommend": (f"https://api.aliyun.com/troubleshoot?q={err.code}&product={PRODUCT}&requestId={request_id}"),
        **err.extra_body(),
    }


def error(err: ApiError, *, request_id: str, host: str, fmt: str = "JSON") -> Response:
    """The error envelope with the error's HTTP status, and the wait when it has one.

    `Retry-After` is in seconds for HTTP clients; `x-acs-retry-after`, in milliseconds, is what
    the new SDK reads to raise ThrottlingException with its `retry_after`.
    """
    response = _response(error_body(err, request_id=request_id, host=host), err.http_status, fmt, "Error", request_id)
    if err.retry_after is not None:
        response.headers["Retry-After"] = str(err.retry_after)
        response.headers["x-acs-retry-after"] = str(err.retry_after * 1000)
    return response
