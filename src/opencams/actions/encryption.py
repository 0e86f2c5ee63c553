"""A number's business encryption public key at Meta (the key WhatsApp Flows encrypt with): read it, set it."""

from __future__ import annotations

from ..rpc.registry import Param
from .declaration import CUST_SPACE_ID_OPTIONAL, PHONE_NUMBER, Call, Result, action

# A 2048-bit RSA public key in PEM is about 450 characters; room for CRLF line ends and a PKCS#1 header.
PEM_MAX_LENGTH = 2048


@action(
    "GetPhoneEncryptionPublicKey",
    access="get",
    rate="5/s",
    params=(CUST_SPACE_ID_OPTIONAL, PHONE_NUMBER),
    summary="The number's encryption public key at Meta and whether its signature is VALID or MISMATCH.",
)
async def get_phone_encryption_public_key(call: Call, *, cust_space_id: str | None, phone_number: str) -> Result:
    services = call.services
    space, number = await services.spaces.owned_number(call.principal, cust_space_id, phone_number)
    key = await services.lifecycle.encryption_key(space, number)
    data = {
        "PhoneNumber": number.digits,
        "EncryptionPublicKey": key.public_key,
        "EncryptionPublicKeyStatus": key.signature_status,
    }
    return {"Data": {k: v for k, v in data.items() if v is not None}}


@action(
    "UpdatePhoneEncryptionPublicKey",
    access="update",
    rate="5/s",
    params=(
        CUST_SPACE_ID_OPTIONAL,
        PHONE_NUMBER,
        Param(
            "EncryptionPublicKey",
            required=True,
            max_length=PEM_MAX_LENGTH,
            multiline=True,
            description="A 2048-bit RSA public key in PEM format, line breaks included; checked before Meta sees it.",
            example="-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq...\n-----END PUBLIC KEY-----",
        ),
    ),
    summary="Set the number's encryption public key at Meta (a 2048-bit RSA key in PEM, kept byte for byte).",
)
async def update_phone_encryption_public_key(
    call: Call, *, cust_space_id: str | None, phone_number: str, encryption_public_key: str
) -> Result:
    services = call.services
    space, number = await services.spaces.owned_number(call.principal, cust_space_id, phone_number)
    await services.lifecycle.set_encryption_key(space, number, encryption_public_key)
    return {}
