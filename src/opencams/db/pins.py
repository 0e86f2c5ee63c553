"""The two-step verification PINs opencams sets at Meta, one per number, sealed with the deployment key."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..secretbox import SecretBox
from .dialect import insert_ignore
from .engine import write
from .tables import number_pins

_PIN = select(number_pins.c.pin_enc).where(number_pins.c.phone_number_id == bindparam("phone_number_id"))


class PinStore:
    """All SQL about numbers' PINs; a PIN leaves this object only in the clear, to the use case."""

    def __init__(self, engine: AsyncEngine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box

    def __repr__(self) -> str:
        return "PinStore(<sealed>)"

    async def pin(self, phone_number_id: str) -> str | None:
        """The PIN opencams keeps for the number, if it has one."""
        async with self.engine.connect() as conn:
            sealed = (await conn.execute(_PIN, {"phone_number_id": phone_number_id})).scalar_one_or_none()
        return self.box.open(sealed) if sealed is not None else None

    async def keep(self, phone_number_id: str, candidate: str) -> str:
        """The number's PIN: the one already kept, else `candidate`, kept now.

        Insert-or-ignore and read back in one transaction, so two registrations of one number at
        once agree on one PIN (the first one kept) in every process.
        """
        async with write(self.engine) as conn:
            await conn.execute(
                insert_ignore(conn.dialect.name, number_pins).values(
                    phone_number_id=phone_number_id,
                    pin_enc=self.box.seal(candidate),
                    created_at=datetime.now(UTC),
                )
            )
            sealed = (await conn.execute(_PIN, {"phone_number_id": phone_number_id})).scalar_one()
        return self.box.open(sealed)
