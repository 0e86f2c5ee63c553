"""The encryption public key of a number through the SDKs: read and set at Meta, checked before Meta sees it."""

from __future__ import annotations

import pytest

from ..harness import legacy_action
from .business import FIRST, World
from .onboarding import ec_public_key_pem, public_key_pem


def test_encryption_key_set_and_read_back_byte_for_byte(world: World) -> None:
    space = world.synced()
    empty = world.call("GetPhoneEncryptionPublicKey", cust_space_id=space, phone_number=FIRST)
    assert empty.data.to_map() == {"PhoneNumber": FIRST} and "Success" not in empty.to_map()
    pem = public_key_pem()
    body = world.call(
        "UpdatePhoneEncryptionPublicKey", cust_space_id=space, phone_number=FIRST, encryption_public_key=pem
    )
    assert body.code == "OK" and "Success" not in body.to_map()
    read = world.call("GetPhoneEncryptionPublicKey", cust_space_id=space, phone_number=FIRST).data.to_map()
    assert read == {"PhoneNumber": FIRST, "EncryptionPublicKey": pem, "EncryptionPublicKeyStatus": "VALID"}
    # Without CustSpaceId the number is found among the account's spaces; the legacy SDK sends a form body.
    crlf = pem.replace("\n", "\r\n")
    assert (
        legacy_action(
            world.server, world.key, "UpdatePhoneEncryptionPublicKey", PhoneNumber=FIRST, EncryptionPublicKey=crlf
        )["Code"]
        == "OK"
    )
    legacy = legacy_action(world.server, world.key, "GetPhoneEncryptionPublicKey", PhoneNumber=FIRST)
    assert legacy["Data"]["EncryptionPublicKey"] == crlf


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("not a key", "2048-bit RSA public key in PEM format"),
        (public_key_pem(1024), "It is a 1024-bit RSA key"),
        (ec_public_key_pem(), "It is not an RSA key"),
    ],
    ids=["garbage", "rsa-1024", "ec"],
)
def test_encryption_key_is_checked_before_meta_sees_it(world: World, key: str, why: str) -> None:
    space = world.synced()
    world.emulator.clear_calls()
    error = world.error("UpdatePhoneEncryptionPublicKey", cust_space_id=space, phone_number=FIRST,
                        encryption_public_key=key)  # fmt: skip
    assert (error.code, error.status_code) == ("InvalidParameter", 400)
    assert "EncryptionPublicKey" in error.message and why in error.message
    assert world.emulator.calls() == []
