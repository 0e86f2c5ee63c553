"""WABA, business and app nodes: their fields, `subscribed_apps`, and the app's webhook subscriptions."""

from __future__ import annotations

from typing import Any

from . import numbers, params
from .analytics import analytics
from .context import Ctx, GraphRequest, Principal
from .errors import (
    GraphError,
    app_token_required,
    enum_param,
    no_permission,
    nonexisting_field,
    required_param,
    unknown_object,
    unsupported_method,
)
from .health import health_status
from .query import field_expression, parse_fields, render_node
from .state import (
    APP_DEFAULT_FIELDS,
    APP_FIELDS,
    APP_NODE_TYPE,
    BUSINESS_DEFAULT_FIELDS,
    BUSINESS_FIELDS,
    BUSINESS_NODE_TYPE,
    IMPLICIT_APP_ID,
    IMPLICIT_APP_NAME,
    WABA_DEFAULT_FIELDS,
    WABA_FIELDS,
    WABA_NODE_TYPE,
    Waba,
    is_http_url,
)
from .webhooks import WABA_OBJECT, WABA_WEBHOOK_FIELDS

# Object types an app may subscribe to (the ones a WhatsApp app meets).
SUBSCRIPTION_OBJECTS: tuple[str, ...] = (WABA_OBJECT, "application", "page", "permissions", "user")


def app_link(app_id: str) -> str:
    """Return the `link` Graph gives for an app (as in subscribed_apps answers)."""
    return f"https://www.facebook.com/games/?app_id={app_id}"


# -- WABA ---------------------------------------------------------------------------------


async def waba_route(
    ctx: Ctx, principal: Principal, waba: Waba, edge: str | None, request: GraphRequest
) -> dict[str, Any]:
    """Everything addressed to /{waba-id}[/{edge}]."""
    if waba.id not in principal.wabas:
        raise no_permission()
    method = request.method
    if edge is None:
        if method == "GET":
            return waba_node(ctx, principal, waba, request)
        raise unsupported_method(method)
    if edge == "phone_numbers":
        if method == "GET":
            return numbers.phone_numbers_edge(ctx, principal, waba, request)
        if method == "POST":
            return numbers.add_number(ctx, waba, request)
        raise unsupported_method(method)
    if edge == "subscribed_apps":
        if method == "GET":
            return subscribed_apps(ctx, waba)
        if method == "POST":
            return await subscribe_app(ctx, principal, waba, request)
        if method == "DELETE":
            return unsubscribe_app(ctx, principal, waba)
        raise unsupported_method(method)
    if method == "GET":
        raise nonexisting_field(edge, WABA_NODE_TYPE)
    raise unsupported_method(method)


def waba_node(ctx: Ctx, principal: Principal, waba: Waba, request: GraphRequest) -> dict[str, Any]:
    """GET /{waba}: stored fields plus owner_business_info, health_status and analytics."""
    raw = request.param("fields")
    fields = parse_fields(raw, known=WABA_FIELDS, node_type=WABA_NODE_TYPE, defaults=WABA_DEFAULT_FIELDS)
    state = ctx.state
    view: dict[str, Any] = dict(waba.fields)
    if "owner_business_info" in fields and waba.business_id is not None:
        business = state.businesses[waba.business_id]
        view["owner_business_info"] = {"name": business.fields.get("name"), "id": business.id}
    if "health_status" in fields:
        view["health_status"] = health_status(state, waba, principal.app_id)
    expression = field_expression(raw, "analytics")
    if "analytics" in fields and expression is not None:
        view["analytics"] = analytics(expression, waba, ctx.clock.now(), state.settings.analytics_lookback_days)
    return render_node(view, fields)


def subscribed_apps(ctx: Ctx, waba: Waba) -> dict[str, Any]:
    """GET /{waba}/subscribed_apps (OAS getAllSubscriptionsForAWaba)."""
    data: list[dict[str, Any]] = []
    for entry in waba.subscribed_apps:
        app = ctx.state.apps[entry["app_id"]]
        item: dict[str, Any] = {
            "whatsapp_business_api_data": {"link": app_link(app.id), "name": app.name, "id": app.id}
        }
        if entry.get("override_callback_uri"):
            item["override_callback_uri"] = entry["override_callback_uri"]
        data.append(item)
    return {"data": data}


async def subscribe_app(ctx: Ctx, principal: Principal, waba: Waba, request: GraphRequest) -> dict[str, Any]:
    """POST /{waba}/subscribed_apps: subscribe the caller's app, optionally with an override URI.

    An override is verified with Meta's hub.challenge handshake before it is kept.
    """
    uri = params.text(request, "override_callback_uri")
    verify_token = params.text(request, "verify_token")
    if uri is not None:
        if not is_http_url(uri):
            raise GraphError(100, "(#100) Param override_callback_uri must be a valid http(s) URL")
        if not verify_token:
            raise required_param("verify_token")
        await ctx.webhooks.handshake(uri, verify_token, ctx.state.settings.webhook_timeout_seconds)
    entry: dict[str, Any] = {"app_id": principal.app_id}
    if uri is not None:
        entry["override_callback_uri"] = uri

    def change(document: dict[str, Any]) -> None:
        listed = document["wabas"][waba.id].setdefault("subscribed_apps", [])
        listed[:] = [e for e in listed if e.get("app_id") != principal.app_id] + [entry]

    ctx.store.update(change)
    return {"success": True}


def unsubscribe_app(ctx: Ctx, principal: Principal, waba: Waba) -> dict[str, Any]:
    """DELETE /{waba}/subscribed_apps: unsubscribe the caller's app (success even if it was not)."""

    def change(document: dict[str, Any]) -> None:
        listed = document["wabas"][waba.id].get("subscribed_apps", [])
        listed[:] = [e for e in listed if e.get("app_id") != principal.app_id]

    ctx.store.update(change)
    return {"success": True}


# -- business -----------------------------------------------------------------------------


def business_route(
    ctx: Ctx, principal: Principal, business_id: str, edge: str | None, request: GraphRequest
) -> dict[str, Any]:
    """GET /{business-id}: readable by tokens that see one of the business's WABAs."""
    state = ctx.state
    if not any(state.wabas[w].business_id == business_id for w in principal.wabas):
        raise unknown_object(business_id, request.method)
    if request.method != "GET":
        raise unsupported_method(request.method)
    if edge is not None:
        raise nonexisting_field(edge, BUSINESS_NODE_TYPE)
    fields = parse_fields(
        request.param("fields"), known=BUSINESS_FIELDS, node_type=BUSINESS_NODE_TYPE, defaults=BUSINESS_DEFAULT_FIELDS
    )
    return render_node(state.businesses[business_id].fields, fields)


# -- app ----------------------------------------------------------------------------------


async def app_route(
    ctx: Ctx, principal: Principal, app_id: str, edge: str | None, request: GraphRequest
) -> dict[str, Any]:
    """GET /{app-id}, and /{app-id}/subscriptions (app access token only, as at Meta)."""
    method = request.method
    app = ctx.state.apps[app_id]
    if edge is None:
        if method != "GET":
            raise unsupported_method(method)
        fields = parse_fields(
            request.param("fields"), known=APP_FIELDS, node_type=APP_NODE_TYPE, defaults=APP_DEFAULT_FIELDS
        )
        return render_node({"id": app.id, "name": app.name, "link": app_link(app.id)}, fields)
    if edge != "subscriptions":
        if method == "GET":
            raise nonexisting_field(edge, APP_NODE_TYPE)
        raise unsupported_method(method)
    if not principal.app_token or principal.app_id != app_id:
        raise app_token_required()
    if method == "GET":
        return {
            "data": [
                {
                    "object": s["object"],
                    "callback_url": s["callback_url"],
                    "active": True,
                    "fields": [{"name": f, "version": request.version} for f in s.get("fields", [])],
                }
                for s in app.subscriptions
            ]
        }
    if method == "POST":
        return await _subscribe(ctx, app_id, request)
    if method == "DELETE":
        return _unsubscribe(ctx, app_id, request)
    raise unsupported_method(method)


async def _subscribe(ctx: Ctx, app_id: str, request: GraphRequest) -> dict[str, Any]:
    """POST /{app}/subscriptions: set the callback for an object and add fields, after the handshake."""
    object_type = params.text(request, "object", required=True) or ""
    if object_type not in SUBSCRIPTION_OBJECTS:
        raise enum_param("object", SUBSCRIPTION_OBJECTS, object_type)
    callback = params.text(request, "callback_url")
    verify_token = params.text(request, "verify_token")
    fields = params.string_list(request, "fields", comma_separated=True) or []
    params.boolean(request, "include_values")
    existing = ctx.state.apps[app_id].subscription(object_type)
    if callback is None:
        if existing is None:
            raise required_param("callback_url")
    elif not is_http_url(callback):
        raise GraphError(100, "(#100) Param callback_url must be a valid http(s) URL")
    if object_type == WABA_OBJECT:
        for name in fields:
            if name not in WABA_WEBHOOK_FIELDS:
                raise GraphError(100, f'(#100) Invalid field "{name}" for object {WABA_OBJECT}')
    if callback is not None:
        if not verify_token:
            raise required_param("verify_token")
        await ctx.webhooks.handshake(callback, verify_token, ctx.state.settings.webhook_timeout_seconds)

    def change(document: dict[str, Any]) -> None:
        app = _materialise_app(document, app_id)
        subscriptions = app.setdefault("subscriptions", [])
        current = next((s for s in subscriptions if s["object"] == object_type), None)
        if current is None:
            current = {"object": object_type, "callback_url": callback, "fields": []}
            subscriptions.append(current)
        if callback is not None:
            current["callback_url"] = callback
            current["verify_token"] = verify_token
        # Meta adds the posted fields to those already subscribed.
        current["fields"] = current.get("fields", []) + [f for f in fields if f not in current.get("fields", [])]

    ctx.store.update(change)
    return {"success": True}


def _unsubscribe(ctx: Ctx, app_id: str, request: GraphRequest) -> dict[str, Any]:
    """DELETE /{app}/subscriptions: drop an object's subscription, some of its fields, or everything."""
    object_type = params.text(request, "object")
    fields = params.string_list(request, "fields", comma_separated=True)

    def change(document: dict[str, Any]) -> None:
        app = _materialise_app(document, app_id)
        kept: list[dict[str, Any]] = []
        for subscription in app.get("subscriptions", []):
            if object_type is not None and subscription["object"] != object_type:
                kept.append(subscription)
                continue
            if fields:
                subscription["fields"] = [f for f in subscription.get("fields", []) if f not in fields]
                if subscription["fields"]:
                    kept.append(subscription)
        app["subscriptions"] = kept

    ctx.store.update(change)
    return {"success": True}


def _materialise_app(document: dict[str, Any], app_id: str) -> dict[str, Any]:
    """Return the app's object in a document copy, writing the implicit app out when it is needed."""
    if app_id == IMPLICIT_APP_ID and not document.get("apps"):
        app: dict[str, Any] = {"name": IMPLICIT_APP_NAME}
        secret = document.pop("app_secret", None)
        if secret is not None:
            app["secret"] = secret
        document["apps"] = {IMPLICIT_APP_ID: app}
    apps: dict[str, dict[str, Any]] = document["apps"]
    return apps[app_id]
