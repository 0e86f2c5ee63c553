"""A fake of Meta's Graph API phone-number reads, for the demo and the tests; imports nothing from opencams.

Graph routes (meta-graph.md §8)::

    GET /{version}/{waba_id}/phone_numbers   edge: {"data": [...], "paging": {...}}
    GET /{version}/{phone_number_id}         node, no "data" wrapper
    GET /{version}/{waba_id}                 {"id", "name"}

An empty page is `{"data": []}` with no `paging`. A `drop` fault sends the status line and
headers, then aborts: clients see a transport error (httpx: RemoteProtocolError).

State document (a fixture file, or `PUT /_emulator/state`)::

    {"tokens": {"TOKEN": ["WABA_ID", ...]},          # which WABAs a token may read
     "expired_tokens": ["TOKEN", ...],               # optional: 401 code 190 subcode 463
     "app_secret": "...",                            # optional: verify appsecret_proof
     "wabas": {"WABA_ID": {"name": "...",            # optional WABA node fields
                           "phone_numbers": [{"id": "...", <fields of meta-graph.md §3>}]}}}

Control API (JSON in, JSON out; errors are `{"error": {"type", "message", "location"}}`)::

    GET    /_emulator/state          the state document
    PUT    /_emulator/state          replace it -> {"status": "replaced", "tokens", "wabas", "phone_numbers"}
    POST   /_emulator/reset          starting state, no faults, no calls, seed replayed
    GET    /_emulator/faults         {"faults": [rule + "id", "remaining", "hits"]}
    POST   /_emulator/faults         one rule or a list (format: faults.py) -> 201 {"faults": [...]}
                                     rule: {path?, path_regex?, waba_id?, skip?, times?, probability?,
                                            action: {delay?, error?|drop?|malformed?|truncated?, headers?}}
    DELETE /_emulator/faults         {"deleted": n};  DELETE /_emulator/faults/{id} removes one
    GET    /_emulator/calls          {"calls": [{"seq", "time", "method", "path", "query",
                                                 "auth", "status", "dropped", "faults"}]}
    DELETE /_emulator/calls          {"deleted": n}
    GET    /_emulator/health         {"status": "ok"}
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
