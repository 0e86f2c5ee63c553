"""A number's Flows encryption key: `GET|POST /{phone-id}/whatsapp_business_encryption` (lifecycle.md 1.14–1.15)."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from . import params
from .context import Ctx, GraphRequest, Principal
from .errors import GraphError, unsupported_method
from .numbers import visible_number
from .query import parse_fields
from .store import find_number

EDGES = frozenset({"whatsapp_business_encryption"})
ENCRYPTION_NODE_TYPE = "WhatsAppBusinessEncryption"
KEY_BITS = 2048
_FIELDS: tuple[str, ...] = ("business_public_key", "business_public_key_signature_status")


def route(ctx: Ctx, principal: Principal, phone_id: str, request: GraphRequest) -> dict[str, Any]:
    """GET the stored key (an empty `data` when none is set) or POST a new one."""
    _, number = visible_number(ctx, principal, phone_id, request.method)
    if request.method == "GET":
        fields = parse_fields(
            request.param("fields"), known=frozenset(_FIELDS), node_type=ENCRYPTION_NODE_TYPE, defaults=_FIELDS
        )
        if number.get("business_public_key") is None:
            return {"data": []}
        stored = {
            "business_public_key": number["business_public_key"],
            "business_public_key_signature_status": number.get("business_public_key_signature_status", "VALID"),
        }
        return {"data": [{name: stored[name] for name in fields}]}
    if request.method != "POST":
        raise unsupported_method(request.method)
    pem = params.text(request, "business_public_key", required=True) or ""
    if not is_rsa_2048_pem(pem):
        # Meta's error table: "a valid 2048-bit RSA public key in PEM format" (lifecycle.md 1.15).
        raise GraphError(
            100,
            "(#100) Invalid parameter",
            extra={
                "error_data": {
                    "messaging_product": "whatsapp",
                    "details": "business_public_key must be a valid 2048-bit RSA public key in PEM format",
                }
            },
        )

    def change(document: dict[str, Any]) -> None:
        # Kept byte for byte: clients compare what they set with what they read back.
        find_number(document, phone_id)[1].update(business_public_key=pem, business_public_key_signature_status="VALID")

    ctx.store.update(change)
    return {"success": True}


def is_rsa_2048_pem(pem: str) -> bool:
    """Whether `pem` is a PEM-encoded 2048-bit RSA public key."""
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return isinstance(key, rsa.RSAPublicKey) and key.key_size == KEY_BITS
