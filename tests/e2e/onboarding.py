"""Helpers for a number's life in the tests: what the emulator knows (codes, PINs) and what opencams stored.

Every verification code and PIN read here is added to the session's log scan (harness.SECRETS).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..harness import SECRETS, Admin, Emulator

DAY_MS = 86_400_000


@functools.cache
def public_key_pem(bits: int = 2048) -> str:
    """A fresh RSA public key in PEM (one per size and session)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@functools.cache
def ec_public_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def now_ms() -> int:
    return int(time.time() * 1000)


def verification_code(emulator: Emulator, phone_id: str) -> str:
    """The code Meta last sent to the number (the emulator's control API), added to the log scan."""
    answer = httpx.get(f"{emulator.url}/_emulator/verification_codes/{phone_id}")
    assert answer.status_code == 200, answer.text
    code: str = answer.json()["code"]
    SECRETS.add(code)
    return code


def meta_number(emulator: Emulator, phone_id: str) -> dict[str, Any]:
    """The number as the emulator stores it (PIN included); its PIN is added to the log scan."""
    for waba in emulator.state()["wabas"].values():
        for number in waba.get("phone_numbers", []):
            if number["id"] == phone_id:
                if number.get("pin"):
                    SECRETS.add(number["pin"])
                return number  # type: ignore[no-any-return]
    raise AssertionError(f"no number {phone_id} at Meta")


def meta_pin(emulator: Emulator, phone_id: str) -> str | None:
    pin = meta_number(emulator, phone_id).get("pin")
    return pin if isinstance(pin, str) else None


def number_id(emulator: Emulator, digits: str) -> str:
    """Meta's id of the number with these digits."""
    for waba in emulator.state()["wabas"].values():
        for number in waba.get("phone_numbers", []):
            if "".join(c for c in number.get("display_phone_number", "") if c.isdigit()) == digits:
                return str(number["id"])
    raise AssertionError(f"no number {digits} at Meta")


def change_number(emulator: Emulator, phone_id: str, changes: dict[str, Any]) -> None:
    """Change a number at Meta as something other than opencams would (WhatsApp Manager, another provider)."""
    answer = httpx.post(f"{emulator.url}/_emulator/phone_numbers/{phone_id}", json=changes)
    assert answer.status_code == 200, answer.text


def into_the_log_scan(emulator: Emulator) -> None:
    """Every PIN Meta holds and every code still pending joins the log scan (a test need not read them)."""
    for waba in emulator.state()["wabas"].values():
        SECRETS.update(n["pin"] for n in waba.get("phone_numbers", []) if n.get("pin"))
    pending = httpx.get(f"{emulator.url}/_emulator/verification_codes").json()["verification_codes"]
    SECRETS.update(code["code"] for code in pending)


def advance_clock(emulator: Emulator, seconds: float) -> None:
    answer = httpx.post(f"{emulator.url}/_emulator/clock", json={"advance": seconds})
    assert answer.status_code == 200, answer.text


def stored_pin(admin: Admin, phone_id: str) -> tuple[str | None, str | None]:
    """(the sealed value as stored, the PIN it opens to), or (None, None)."""
    from sqlalchemy import select

    from opencams.db.tables import number_pins

    async def read(c: Any) -> tuple[str | None, str | None]:
        async with c.engine.connect() as conn:
            sealed = (
                await conn.execute(select(number_pins.c.pin_enc).where(number_pins.c.phone_number_id == phone_id))
            ).scalar_one_or_none()
        if sealed is None:
            return None, None
        pin = c.box.open(sealed)
        SECRETS.add(pin)
        return sealed, pin

    return admin.run(read)
