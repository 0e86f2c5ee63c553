"""Meta's Resumable Upload API: `POST /{app-id}/uploads` opens a session, `POST /upload:<id>` sends bytes.

The answer to the second call is the handle (`{"h": ...}`) a profile picture is set with. A
POST must carry exactly the bytes from `file_offset` to `file_length`; `GET /upload:<id>`
tells where to resume. Uploads are kept in runtime.py and listed by `GET /_emulator/uploads`.
"""

from __future__ import annotations

from typing import Any

from . import params
from .context import Ctx, GraphRequest, Principal
from .errors import GraphError, enum_param, no_permission, nonexisting_field, unknown_object, unsupported_method
from .runtime import session_key

EDGES = frozenset({"uploads"})
UPLOAD_NODE_TYPE = "UploadSession"
# The file types Meta's resumable upload accepts.
FILE_TYPES: tuple[str, ...] = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")


def start_route(ctx: Ctx, principal: Principal, app_id: str, request: GraphRequest) -> dict[str, Any]:
    """POST /{app-id}/uploads?file_name=&file_length=&file_type= -> {"id": "upload:..."}."""
    if request.method != "POST":
        raise unsupported_method(request.method)
    if principal.app_id != app_id:
        raise no_permission()
    file_name = params.text(request, "file_name") or "upload"
    length_text = params.text(request, "file_length", required=True) or ""
    if not length_text.isdigit() or int(length_text) == 0:
        raise GraphError(100, "(#100) Param file_length must be a positive integer")
    file_type = params.text(request, "file_type", required=True) or ""
    if file_type not in FILE_TYPES:
        raise enum_param("file_type", FILE_TYPES, file_type)
    with ctx.store.lock:
        upload = ctx.runtime.start_upload(app_id, file_name, file_type, int(length_text), ctx.clock.now())
    return {"id": upload.session}


def session_route(
    ctx: Ctx, principal: Principal, node_id: str, edge: str | None, request: GraphRequest
) -> dict[str, Any]:
    """GET (resume offset) or POST (bytes) on an upload session."""
    if edge is not None:
        if request.method == "GET":
            raise nonexisting_field(edge, UPLOAD_NODE_TYPE)
        raise unsupported_method(request.method)
    with ctx.store.lock:
        upload = ctx.runtime.uploads.get(session_key(node_id))
        # Another app's session is as invisible as a missing one.
        if upload is None or upload.app_id != principal.app_id:
            raise unknown_object(node_id, request.method)
        if request.method == "GET":
            return {"id": upload.session, "file_offset": upload.received}
        if request.method != "POST":
            raise unsupported_method(request.method)
        offset_text = request.headers.get("file_offset")
        if offset_text is None:
            raise GraphError(100, "(#100) The file_offset header is required")
        if not offset_text.strip().isdigit() or int(offset_text) != upload.received:
            raise GraphError(
                100, f"(#100) Invalid file_offset {offset_text.strip()}: the session has {upload.received} bytes"
            )
        if upload.handle is not None:
            if request.body:
                raise GraphError(100, "(#100) This upload session is already complete")
            return {"h": upload.handle}
        expected = upload.file_length - upload.received
        if len(request.body) != expected:
            raise GraphError(
                100,
                f"(#100) Upload size mismatch: got {len(request.body)} bytes, "
                f"expected {expected} (file_length {upload.file_length}, file_offset {upload.received})",
            )
        upload.digest.update(request.body)
        upload.received += len(request.body)
        return {"h": ctx.runtime.finish_upload(upload, ctx.clock.now())}
