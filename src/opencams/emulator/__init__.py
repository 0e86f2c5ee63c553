"""A fake of Meta's Graph API for WhatsApp numbers and WABAs, for the demo and the tests; imports nothing from opencams.

Graph routes (`{v}` is any `vNN.N`; token in `access_token`, or `Authorization: Bearer|OAuth`)::

    GET    /{v}/{waba}                      fields: id name currency timezone_id message_template_namespace
                                            account_review_status business_verification_status
                                            owner_business_info primary_business_location
                                            auth_international_rate_eligibility marketing_messages_lite_api_status
                                            health_status analytics.start(S).end(E).granularity(HALF_HOUR|DAY|MONTH)
                                            [.phone_numbers([...])][.country_codes([...])]; default id,name
    GET    /{v}/{waba}/phone_numbers        edge: {"data": [...], "paging": {...}}
    POST   /{v}/{waba}/phone_numbers        cc, phone_number, verified_name[, migrate_phone_number] -> {"id"}
    GET    /{v}/{waba}/subscribed_apps      {"data": [{"whatsapp_business_api_data": {link, name, id},
                                                       "override_callback_uri"?}]}
    POST   /{v}/{waba}/subscribed_apps      [override_callback_uri + verify_token: handshake] -> {"success": true}
    DELETE /{v}/{waba}/subscribed_apps      the caller's app -> {"success": true}
    GET    /{v}/{phone}                     node, no "data" wrapper (health_status derived)
    POST   /{v}/{phone}                     pin (two-step PIN) -> {"success": true}
    POST   /{v}/{phone}/request_code        code_method SMS|VOICE, language -> {"success": true}
    POST   /{v}/{phone}/verify_code         code -> {"success": true}; VERIFIED
    POST   /{v}/{phone}/register            messaging_product=whatsapp, pin -> {"success": true}; CONNECTED
    POST   /{v}/{phone}/deregister          -> {"success": true}; DISCONNECTED
    GET    /{v}/{phone}/whatsapp_business_profile     {"data": [{..., "messaging_product": "whatsapp"}]}
    POST   /{v}/{phone}/whatsapp_business_profile     messaging_product + about address description email
                                                      websites vertical profile_picture_handle
    GET    /{v}/{phone}/whatsapp_business_encryption  {"data": [{business_public_key, ..._signature_status}]}
    POST   /{v}/{phone}/whatsapp_business_encryption  business_public_key (2048-bit RSA PEM)
    GET    /{v}/{business}                  id name verification_status vertical
    GET    /{v}/{app}                       link name id
    POST   /{v}/{app}/uploads               file_name, file_length, file_type -> {"id": "upload:<b64>?sig=<s>"}
    GET    /{v}/upload:<b64>                {"id", "file_offset"}
    POST   /{v}/upload:<b64>                header file_offset, raw bytes -> {"h": "<handle>"}
    GET|POST|DELETE /{v}/{app}/subscriptions  app access token `APP_ID|SECRET` only (else code 15);
                                              object, callback_url + verify_token (handshake), fields

POST parameters come from the query, a form, a multipart form or a JSON body alike. An empty
page is `{"data": []}` with no `paging`. A `drop` fault sends the status line and headers,
then aborts: clients see a transport error (httpx: RemoteProtocolError). Error codes:
graph.py and the route modules (accounts, numbers, profile, encryption, uploads, analytics).

State document (a fixture file, or `PUT /_emulator/state`; every Graph write is kept in it)::

    {"tokens": {"TOKEN": ["WABA_ID", ...],                  # the first app's token, or
                "TOKEN2": {"app": "APP_ID", "wabas": [...]}},
     "expired_tokens": ["TOKEN", ...],                      # optional: 401 code 190 subcode 463
     "app_secret": "...",                                   # only without "apps": the implicit app's
     "apps": {"APP_ID": {"name", "secret",                  # optional; without it one implicit app
                         "subscriptions": [{"object", "callback_url", "verify_token"?, "fields": [...]}],
                         "health"?}},
     "businesses": {"BIZ_ID": {"name", "verification_status", "vertical", "health"?}},
     "settings": {"code_ttl_seconds": 600, "request_code_max": 5, "request_code_window_seconds": 3600,
                  "verify_code_max_attempts": 5, "register_max": 10, "register_window_seconds": 259200,
                  "webhook_max_attempts": 5, "webhook_retry_base_seconds": 0.5,
                  "webhook_timeout_seconds": 5, "analytics_lookback_days": 365},
     "wabas": {"WABA_ID": {<WABA fields above, stored as given>,
                           "business_id"?, "subscribed_apps"?: [{"app_id", "override_callback_uri"?}],
                           "health"?, "ban_info"?, "restriction_info"?, "violation_info"?,
                           "business_capability"?,
                           "phone_numbers": [{"id": "...", <fields of meta-graph.md §3>,
                                              "pin"?, "business_profile"?, "business_public_key"?,
                                              "business_public_key_signature_status"?,
                                              "requested_verified_name"?, "name_rejection_reason"?,
                                              "health"?}]}}}

`health` overrides are `{"can_send_message": AVAILABLE|LIMITED|BLOCKED, "additional_info"?, "errors"?}`;
unset entities are AVAILABLE (health.py). Keys ending in `?` other than Graph fields are never
readable as fields. A number with a `pin` and not CONNECTED models one registered elsewhere.

Webhooks (webhooks.py): every change of the data set (Graph write, control call, PUT) is
diffed, and Meta's webhook is sent for each of these changes:

    number messaging limit up/down          phone_number_quality_update  UPGRADE / DOWNGRADE
    number to/from FLAGGED or RED quality    phone_number_quality_update  FLAGGED / UNFLAGGED
    number name_status / new_name_status     phone_number_name_update     APPROVED REJECTED PENDING ...
    WABA account_review_status               account_review_update
    WABA ban_info / restriction_info /       account_update  DISABLED_UPDATE / ACCOUNT_RESTRICTION /
      violation_info / primary_business_location /   ACCOUNT_VIOLATION / BUSINESS_PRIMARY_LOCATION_
      auth_international_rate_eligibility            COUNTRY_UPDATE / AUTH_INTL_PRICE_ELIGIBILITY_UPDATE
    WABA business_capability                 business_capability_update

Each goes, as a lifecycle.md §A.1 envelope signed `X-Hub-Signature-256` with the app secret
(unsigned if the app has none), to every app subscribed to the WABA whose
`whatsapp_business_account` subscription lists the field; a WABA's `override_callback_uri`
takes only message-type fields. A non-200 is retried with doubling backoff.
`python -m opencams.emulator --webhook-url URL [--app-secret S] [--verify-token T]` subscribes
the first app to the five fields on every WABA (server.with_webhooks).

Control API (JSON in, JSON out; errors are `{"error": {"type", "message", "location"}}`)::

    GET    /_emulator/state          the state document
    PUT    /_emulator/state          replace it (webhooks for what changed)
                                     -> {"status": "replaced", "tokens", "wabas", "phone_numbers"}
    POST   /_emulator/reset          starting state, wall clock; no faults, calls, codes, uploads or
                                     deliveries; seed replayed; no webhooks
    POST   /_emulator/phone_numbers/{id}  {field: value|null, ...} -> {"phone_number", "waba_id", "webhooks": n}
    POST   /_emulator/wabas/{id}          {key: value|null, ...} (not phone_numbers) -> {"waba", "webhooks": n}
    POST   /_emulator/webhooks       {"waba_id", "field", "value"}: send one change -> {"queued": n}
    GET    /_emulator/deliveries     {"deliveries": [{"id", "kind": event|verification, "attempt", "time",
                                                      "url", "app_id", "waba_id", "field", "status", "error",
                                                      "outcome": delivered|retrying|failed|verified, "body"}],
                                      "pending": n}
    DELETE /_emulator/deliveries     {"deleted": n}
    GET    /_emulator/verification_codes       {"verification_codes": [...]}
    GET    /_emulator/verification_codes/{id}  {"phone_number_id", "code", "code_method", "language",
                                                "issued_at", "expires_at", "expired", "failed_attempts"}; 404 if none
    GET    /_emulator/clock          {"now", "iso", "offset"};  POST {"advance": s} or {"set": unix} -> same
    GET    /_emulator/uploads        {"uploads": [{"id", "app_id", "file_name", "file_type", "file_length",
                                                   "received", "complete", "sha256", "handle", "created_at"}]}
    GET    /_emulator/faults         {"faults": [rule + "id", "remaining", "hits"]}
    POST   /_emulator/faults         one rule or a list (format: faults.py) -> 201 {"faults": [...]}
                                     rule: {path?, path_regex?, waba_id?, skip?, times?, probability?,
                                            action: {delay?, error?|drop?|malformed?|truncated?, headers?}}
    DELETE /_emulator/faults         {"deleted": n};  DELETE /_emulator/faults/{id} removes one
    GET    /_emulator/calls          {"calls": [{"seq", "time", "method", "path", "query",
                                                 "auth", "status", "dropped", "faults"}]}
    DELETE /_emulator/calls          {"deleted": n}
    GET    /_emulator/health         {"status": "ok"}

Verification codes, attempt windows, uploads, the clock offset and deliveries are run-time
records (runtime.py): never in the state document, kept by PUT, cleared by reset.
"""

from __future__ import annotations

from .app import ConnectionDropped, Emulator, create_app
from .faults import FaultRuleError
from .state import GraphState, StateError, demo_document, load_state_file, parse_state

__all__ = [
    "ConnectionDropped",
    "Emulator",
    "FaultRuleError",
    "GraphState",
    "StateError",
    "create_app",
    "demo_document",
    "load_state_file",
    "parse_state",
]
