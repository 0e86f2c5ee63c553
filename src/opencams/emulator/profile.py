"""A number's business profile: `GET|POST /{phone-id}/whatsapp_business_profile` with Meta's limits.

Shapes follow Meta's business-profiles page (flat `data[]`, not the OAS `business_profile`
wrapper; lifecycle.md 1.6–1.7). Limits: about 1–139 characters, address ≤256, description
≤512, email ≤128, at most 2 websites of ≤256 characters with an http(s) scheme, vertical from
Meta's enum; a picture is set from a resumable-upload handle (uploads.py).
"""

from __future__ import annotations

import re
from typing import Any

from . import params
from .context import Ctx, GraphRequest, Principal
from .errors import GraphError, enum_param, unsupported_method
from .numbers import visible_number
from .query import parse_fields
from .store import find_number

EDGES = frozenset({"whatsapp_business_profile"})
PROFILE_NODE_TYPE = "WhatsAppBusinessProfile"
# OAS WhatsAppBusinessVertical.
VERTICALS: tuple[str, ...] = (
    "OTHER",
    "AUTO",
    "BEAUTY",
    "APPAREL",
    "EDU",
    "ENTERTAIN",
    "EVENT_PLAN",
    "FINANCE",
    "GROCERY",
    "GOVT",
    "HOTEL",
    "HEALTH",
    "NONPROFIT",
    "PROF_SERVICES",
    "RETAIL",
    "TRAVEL",
    "RESTAURANT",
    "ALCOHOL",
    "ONLINE_GAMBLING",
    "PHYSICAL_GAMBLING",
    "OTC_DRUGS",
)
PICTURE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png"})
_PROFILE_FIELDS: tuple[str, ...] = (
    "about",
    "address",
    "description",
    "email",
    "profile_picture_url",
    "websites",
    "vertical",
)
_READABLE = frozenset(_PROFILE_FIELDS) | {"messaging_product"}
# (minimum, maximum) length of each text field.
_LENGTHS = {"about": (1, 139), "address": (0, 256), "description": (0, 512), "email": (0, 128)}
MAX_WEBSITES = 2
MAX_WEBSITE_LENGTH = 256
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/]+\S*$", re.IGNORECASE)


def route(ctx: Ctx, principal: Principal, phone_id: str, request: GraphRequest) -> dict[str, Any]:
    """GET or POST /{phone-id}/whatsapp_business_profile."""
    _, number = visible_number(ctx, principal, phone_id, request.method)
    if request.method == "GET":
        fields = parse_fields(
            request.param("fields"), known=_READABLE, node_type=PROFILE_NODE_TYPE, defaults=_PROFILE_FIELDS
        )
        stored = number.get("business_profile") or {}
        item = {name: stored[name] for name in fields if name in stored}
        item["messaging_product"] = "whatsapp"
        return {"data": [item]}
    if request.method == "POST":
        return _update(ctx, phone_id, request)
    raise unsupported_method(request.method)


def _update(ctx: Ctx, phone_id: str, request: GraphRequest) -> dict[str, Any]:
    product = params.text(request, "messaging_product", required=True) or ""
    if product.lower() != "whatsapp":
        raise enum_param("messaging_product", ("whatsapp",), product)
    changes: dict[str, Any] = {}
    for name, (shortest, longest) in _LENGTHS.items():
        value = params.text(request, name)
        if value is None:
            continue
        if len(value) < shortest:
            raise GraphError(100, f"(#100) Param {name} must be at least {shortest} characters long")
        if len(value) > longest:
            raise GraphError(100, f"(#100) Param {name} must be at most {longest} characters long")
        if name == "email" and value and not _EMAIL.match(value):
            raise GraphError(100, "(#100) Param email must be a valid email address")
        changes[name] = value
    websites = params.string_list(request, "websites")
    if websites is not None:
        if len(websites) > MAX_WEBSITES:
            raise GraphError(100, f"(#100) Param websites must have at most {MAX_WEBSITES} elements")
        for index, site in enumerate(websites):
            if len(site) > MAX_WEBSITE_LENGTH:
                raise GraphError(
                    100, f"(#100) Param websites[{index}] must be at most {MAX_WEBSITE_LENGTH} characters long"
                )
            if not _URL.match(site):
                raise GraphError(100, f"(#100) Param websites[{index}] must be a URL starting with http:// or https://")
        changes["websites"] = websites
    vertical = params.text(request, "vertical")
    if vertical is not None:
        if vertical not in VERTICALS:
            raise enum_param("vertical", VERTICALS, vertical)
        changes["vertical"] = vertical
    handle = params.text(request, "profile_picture_handle")
    with ctx.store.lock:
        if handle is not None:
            upload = ctx.runtime.handles.get(handle)
            if upload is None or upload.sha256 is None:
                raise GraphError(
                    100, "(#100) Param profile_picture_handle is not a handle from the Resumable Upload API"
                )
            if upload.file_type not in PICTURE_TYPES:
                raise GraphError(100, "(#100) The profile picture must be a JPEG or PNG image")
            changes["profile_picture_url"] = picture_url(upload.sha256)

        def change(document: dict[str, Any]) -> None:
            find_number(document, phone_id)[1].setdefault("business_profile", {}).update(changes)

        ctx.store.update(change)
    return {"success": True}


def picture_url(sha256: str) -> str:
    """Return a WhatsApp-CDN-looking URL for an uploaded picture, the same for the same bytes."""
    first, second = int(sha256[:12], 16), int(sha256[12:24], 16)
    return (
        f"https://pps.whatsapp.net/v/t61.24694-24/{first}_{second}_n.jpg"
        f"?ccb=11-4&oh=01_{sha256[24:56]}&oe={sha256[56:64].upper()}&_nc_sid=5e03e0&_nc_cat=1"
    )
