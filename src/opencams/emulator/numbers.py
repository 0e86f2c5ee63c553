"""Phone numbers: the node and the WABA edge, and a number's life (add, codes, PIN, register, deregister).

Meta's state machine (lifecycle.md 1.8–1.12): a number is added PENDING / NOT_VERIFIED;
request_code sends a 6-digit code (readable only through the control API); verify_code makes
it VERIFIED; register (with the two-step PIN) makes it CONNECTED; deregister DISCONNECTED.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from . import params
from .context import Ctx, GraphRequest, Principal
from .errors import (
    GraphError,
    enum_param,
    nonexisting_field,
    unknown_object,
    unsupported_method,
    whatsapp_error,
)
from .health import health_status
from .paging import paging_object, select_page
from .query import (
    apply_filters,
    apply_sort,
    parse_fields,
    parse_filtering,
    parse_limit,
    parse_sort,
    render_node,
)
from .runtime import PendingCode, Runtime
from .state import DEFAULT_FIELDS, KNOWN_FIELDS, PHONE_NODE_TYPE, GraphState, Waba, digits
from .store import find_number

_SUMMARY_ON = frozenset({"true", "1", "total_count"})
# Statuses of a number that is registered on the platform (and so can be deregistered).
REGISTERED_STATUSES = frozenset({"CONNECTED", "FLAGGED", "RESTRICTED", "RATE_LIMITED"})
CODE_METHODS = ("SMS", "VOICE")
_SIX_DIGITS = re.compile(r"^[0-9]{6}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
_CC = re.compile(r"^[1-9][0-9]{0,2}$")
_LOCAL_NUMBER = re.compile(r"^[0-9]{4,14}$")
_ACTION_EDGES = frozenset({"request_code", "verify_code", "register", "deregister"})


def visible_number(ctx: Ctx, principal: Principal, phone_id: str, method: str) -> tuple[Waba, Mapping[str, Any]]:
    """Return (owning WABA, number) when the caller may see it; else Meta's 100/33.

    A number under a WABA the token cannot see looks exactly like a missing one
    (meta-graph.md §2: "unknown or inaccessible" -> 100/33).
    """
    state = ctx.state
    owner = state.phone_owner.get(phone_id)
    if owner is None or owner not in principal.wabas:
        raise unknown_object(phone_id, method)
    return state.wabas[owner], state.phones[phone_id]


def phone_fields(request: GraphRequest) -> tuple[str, ...]:
    """Return the phone-number fields a request asks for."""
    return parse_fields(request.param("fields"), known=KNOWN_FIELDS, node_type=PHONE_NODE_TYPE, defaults=DEFAULT_FIELDS)


def render_number(
    state: GraphState, waba: Waba, number: Mapping[str, Any], fields: tuple[str, ...], app_id: str
) -> dict[str, Any]:
    """Return a number with the requested fields; `health_status` is derived unless stored verbatim."""
    if "health_status" in fields and number.get("health_status") is None:
        number = {**number, "health_status": health_status(state, waba, app_id, number)}
    return render_node(number, fields)


def phone_numbers_edge(ctx: Ctx, principal: Principal, waba: Waba, request: GraphRequest) -> dict[str, Any]:
    """GET /{waba}/phone_numbers: a page of numbers with Graph's paging object."""
    fields = phone_fields(request)
    limit = parse_limit(request.param("limit"))
    listed: list[Mapping[str, Any]] = apply_filters(waba.numbers, parse_filtering(request.param("filtering")))
    listed = apply_sort(listed, parse_sort(request.param("sort")))
    page = select_page(len(listed), limit, request.param("after"), request.param("before"))
    state = ctx.state
    body: dict[str, Any] = {
        "data": [render_number(state, waba, n, fields, principal.app_id) for n in page.items(listed)]
    }
    # An empty page carries no `paging` at all (Graph's own empty edges look like this).
    paging = paging_object(page, request.url, request.query, limit)
    if paging is not None:
        body["paging"] = paging
    summary = request.param("summary")
    if summary is not None and summary.lower() in _SUMMARY_ON:
        body["summary"] = {"total_count": len(listed)}
    return body


def add_number(ctx: Ctx, waba: Waba, request: GraphRequest) -> dict[str, Any]:
    """POST /{waba}/phone_numbers: add a number, PENDING and NOT_VERIFIED (lifecycle.md 1.8)."""
    cc = params.text(request, "cc", required=True) or ""
    local = params.text(request, "phone_number", required=True) or ""
    verified_name = params.text(request, "verified_name", required=True) or ""
    migrate = params.boolean(request, "migrate_phone_number") or False
    params.text(request, "preverified_id")
    if not _CC.match(cc):
        raise GraphError(100, "(#100) Param cc must be a country calling code of 1 to 3 digits")
    if not _LOCAL_NUMBER.match(local) or len(cc) + len(local) > 15:
        raise GraphError(100, "(#100) Param phone_number must be the phone number without the country code or +")
    full = cc + local
    with ctx.store.lock:
        state = ctx.state
        for other in state.wabas.values():
            if not any(digits(n.get("display_phone_number", "")) == full for n in other.numbers):
                continue
            if other.id == waba.id:
                # OAS addPhoneNumbers' conflict example, with Graph's 400 for code 100 (meta-graph.md §9).
                raise GraphError(
                    100, "Phone number is already registered with WhatsApp Business", error_type="GraphMethodException"
                )
            if not migrate:
                # Meta's phone_numbers edge reference lists 200000 for this (lifecycle.md 1.8).
                raise GraphError(
                    200000,
                    "(#200000) Cannot add phone number to WhatsApp Business Account",
                    extra={
                        "error_user_msg": "This phone number is already in use by another WhatsApp Business Account."
                    },
                )
        new_id = _new_id(state, waba.id, full)
        number = {
            "id": new_id,
            "display_phone_number": f"+{cc} {local}",
            "verified_name": verified_name,
            "status": "PENDING",
            "code_verification_status": "NOT_VERIFIED",
            "name_status": "PENDING_REVIEW",
            "quality_rating": "NA",
            "platform_type": "NOT_APPLICABLE",
            "throughput": {"level": "NOT_APPLICABLE"},
            "account_mode": "LIVE",
            "country_dial_code": cc,
        }
        ctx.store.update(lambda document: document["wabas"][waba.id].setdefault("phone_numbers", []).append(number))
    return {"id": new_id}


def _new_id(state: GraphState, waba_id: str, full: str) -> str:
    # Repeatable ids (same WABA and number, same id) keep test runs comparable.
    used = state.node_ids()
    salt = 0
    while True:
        value = int(hashlib.sha256(f"{waba_id}:{full}:{salt}".encode()).hexdigest(), 16)
        candidate = str(100_000_000_000_000 + value % 900_000_000_000_000)
        if candidate not in used:
            return candidate
        salt += 1


def phone_route(
    ctx: Ctx, principal: Principal, phone_id: str, edge: str | None, request: GraphRequest
) -> dict[str, Any]:
    """Everything addressed to /{phone-number-id}[/{edge}] except the profile and encryption edges."""
    waba, number = visible_number(ctx, principal, phone_id, request.method)
    method = request.method
    if edge is None:
        if method == "GET":
            return render_number(ctx.state, waba, number, phone_fields(request), principal.app_id)
        if method == "POST":
            return _set_pin(ctx, phone_id, request)
        raise unsupported_method(method)
    if edge not in _ACTION_EDGES:
        if method == "GET":
            raise nonexisting_field(edge, PHONE_NODE_TYPE)
        raise unsupported_method(method)
    if method != "POST":
        raise unsupported_method(method)
    if edge == "request_code":
        return _request_code(ctx, phone_id, request)
    if edge == "verify_code":
        return _verify_code(ctx, phone_id, request)
    if edge == "register":
        return _register(ctx, phone_id, request)
    return _deregister(ctx, phone_id)


def _pin(request: GraphRequest) -> str:
    pin = params.text(request, "pin", required=True) or ""
    if not _SIX_DIGITS.match(pin):
        # OAS registerWhatsAppBusinessPhoneNumber's 400 example.
        raise GraphError(100, "(#100) Invalid PIN format. PIN must be exactly 6 digits")
    return pin


def _set_pin(ctx: Ctx, phone_id: str, request: GraphRequest) -> dict[str, Any]:
    """POST /{phone}: set the two-step verification PIN (lifecycle.md 1.10)."""
    pin = _pin(request)

    def change(document: dict[str, Any]) -> None:
        number = find_number(document, phone_id)[1]
        number["pin"] = pin
        number["is_pin_enabled"] = True

    ctx.store.update(change)
    return {"success": True}


def _request_code(ctx: Ctx, phone_id: str, request: GraphRequest) -> dict[str, Any]:
    """POST /{phone}/request_code: send a code by SMS or voice (lifecycle.md 1.9)."""
    method = params.text(request, "code_method", required=True)
    if method not in CODE_METHODS:
        raise enum_param("code_method", CODE_METHODS, method)
    language = params.text(request, "language", required=True) or ""
    if not _LANGUAGE.match(language):
        raise GraphError(100, f'(#100) Param language must be a language code such as en_US - got "{language}"')
    with ctx.store.lock:
        now = ctx.clock.now()
        settings = ctx.state.settings
        recent = Runtime.recent(ctx.runtime.code_requests, phone_id, now, settings.request_code_window_seconds)
        if len(recent) >= settings.request_code_max:
            raise whatsapp_error(
                136024,
                "Code couldn't be sent: too many verification codes were requested for this phone number. "
                "Wait before requesting another one.",
                user_title="Too many attempts",
                user_msg="You have requested a code too many times. Please try again later.",
            )
        recent.append(now)
        ctx.runtime.codes[phone_id] = PendingCode(ctx.runtime.new_code(), method, language, now)
    return {"success": True}


def _verify_code(ctx: Ctx, phone_id: str, request: GraphRequest) -> dict[str, Any]:
    """POST /{phone}/verify_code: check the code; VERIFIED on success (lifecycle.md 1.10)."""
    code = params.text(request, "code", required=True) or ""
    if not _SIX_DIGITS.match(code):
        # OAS verifyPhoneNumberCode's 400 example.
        raise GraphError(100, "(#100) Invalid verification code format")
    with ctx.store.lock:
        now = ctx.clock.now()
        settings = ctx.state.settings
        pending = ctx.runtime.codes.get(phone_id)
        if pending is None:
            raise whatsapp_error(
                136025,
                "Code couldn't be verified: no verification code is pending for this phone number. Request a code first.",
                user_title="No code requested",
                user_msg="Request a new verification code and try again.",
            )
        if now - pending.issued_at > settings.code_ttl_seconds:
            del ctx.runtime.codes[phone_id]
            raise whatsapp_error(
                136025,
                "Code couldn't be verified: the verification code has expired. Request a new code.",
                user_title="Code expired",
                user_msg="The code you entered has expired. Request a new code and try again.",
            )
        if code != pending.code:
            pending.failed_attempts += 1
            if pending.failed_attempts >= settings.verify_code_max_attempts:
                del ctx.runtime.codes[phone_id]
                raise whatsapp_error(
                    136025,
                    "Code couldn't be verified: you have submitted the wrong code too many times. "
                    "Request a new code and try again.",
                    user_title="Too many attempts",
                    user_msg="You entered the wrong code too many times. Request a new code.",
                )
            raise whatsapp_error(
                136025,
                "Code couldn't be verified: the code you entered is incorrect.",
                user_title="Incorrect code",
                user_msg="The code you entered is incorrect. Check the code and try again.",
            )
        del ctx.runtime.codes[phone_id]
        ctx.store.update(
            lambda document: find_number(document, phone_id)[1].update(code_verification_status="VERIFIED")
        )
    return {"success": True}


def _count_attempt(ctx: Ctx, phone_id: str) -> None:
    """Spend one register/deregister attempt; raise 133016 past Meta's 10 per 72 h (lifecycle.md 1.10)."""
    now = ctx.clock.now()
    settings = ctx.state.settings
    recent = Runtime.recent(ctx.runtime.registrations, phone_id, now, settings.register_window_seconds)
    if len(recent) >= settings.register_max:
        raise whatsapp_error(
            133016,
            "Registration or deregistration failed because there were too many attempts for this phone number "
            f"in a short period of time (at most {settings.register_max} in "
            f"{settings.register_window_seconds / 3600:g} hours).",
        )
    recent.append(now)


def _register(ctx: Ctx, phone_id: str, request: GraphRequest) -> dict[str, Any]:
    """POST /{phone}/register: CONNECTED, given a verified code or the number's existing PIN."""
    product = params.text(request, "messaging_product", required=True) or ""
    if product.lower() != "whatsapp":
        raise enum_param("messaging_product", ("whatsapp",), product)
    pin = _pin(request)
    params.text(request, "data_localization_region")
    with ctx.store.lock:
        _count_attempt(ctx, phone_id)
        number = ctx.state.phones[phone_id]
        stored = number.get("pin")
        if stored is not None and stored != pin:
            raise whatsapp_error(
                133005,
                "Two-step verification PIN incorrect. Verify that the PIN included in the request is the number's "
                "two-step verification PIN.",
            )
        if stored is None and number.get("code_verification_status") != "VERIFIED":
            raise whatsapp_error(
                133006,
                "Phone number needs to be verified before registering: request a code and verify it first.",
            )

        def change(document: dict[str, Any]) -> None:
            # With no PIN set yet, the PIN given here becomes the two-step PIN (lifecycle.md 1.10).
            find_number(document, phone_id)[1].update(
                status="CONNECTED", pin=pin, is_pin_enabled=True, platform_type="CLOUD_API"
            )

        ctx.store.update(change)
    return {"success": True}


def _deregister(ctx: Ctx, phone_id: str) -> dict[str, Any]:
    """POST /{phone}/deregister: DISCONNECTED; 100/2207051 when the number is not registered."""
    with ctx.store.lock:
        _count_attempt(ctx, phone_id)
        if ctx.state.phones[phone_id].get("status") not in REGISTERED_STATUSES:
            # OAS deregisterPhoneNumber's 400 example (lifecycle.md 1.12).
            raise GraphError(100, "Phone number not registered on the WhatsApp Business Platform.", subcode=2207051)
        ctx.store.update(lambda document: find_number(document, phone_id)[1].update(status="DISCONNECTED"))
    return {"success": True}
