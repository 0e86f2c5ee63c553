"""Accounts and their AccessKeys: creation, subscription, activation, credential lookup."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..ids import new_access_key_id, new_access_key_secret, new_account_id
from ..principal import Credential, Principal
from ..secretbox import SecretBox
from .engine import write
from .tables import access_keys, accounts, ram_users, sts_credentials

# Temporary AccessKeys issued by AssumeRole carry Alibaba's prefix; they live in their own table.
STS_KEY_PREFIX = "STS."
# A key's last use is written at most this often per process: enough to tell a used key from a stale one.
LAST_USE_EVERY = 60.0


# Built once: this runs on every call, and building the statement costs more than running it.
_CREDENTIAL = (
    select(
        access_keys.c.secret_enc,
        access_keys.c.active,
        access_keys.c.account_id,
        access_keys.c.user_name,
        accounts.c.name,
        accounts.c.cams_enabled,
        accounts.c.queue_delivery,
    )
    .join(accounts, accounts.c.id == access_keys.c.account_id)
    .where(access_keys.c.id == bindparam("key_id"))
)


_STS_CREDENTIAL = (
    select(sts_credentials, accounts.c.cams_enabled, accounts.c.queue_delivery)
    .join(accounts, accounts.c.id == sts_credentials.c.account_id)
    .where(sts_credentials.c.id == bindparam("key_id"))
)


class NotFound(LookupError):
    """The named account, key or space does not exist."""


class KeyInUse(ValueError):
    """An AccessKey that is still active cannot be deleted."""


@dataclass(frozen=True, slots=True)
class AccessKeyInfo:
    id: str
    account_id: str
    user_name: str | None
    active: bool
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    cams_enabled: bool
    queue_delivery: bool


@dataclass(frozen=True, slots=True)
class NewAccessKey:
    id: str
    secret: str
    account_id: str
    user_name: str | None = None


class AccountStore:
    """All SQL about accounts and AccessKeys."""

    def __init__(self, engine: AsyncEngine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box
        # When this process last recorded each key's use (monotonic seconds).
        self._used: dict[str, float] = {}

    async def create_account(self, name: str, *, cams_enabled: bool = True) -> Account:
        account = Account(new_account_id(), name, cams_enabled, False)
        async with write(self.engine) as conn:
            await conn.execute(
                accounts.insert().values(
                    id=account.id,
                    name=name,
                    cams_enabled=cams_enabled,
                    queue_delivery=False,
                    created_at=datetime.now(UTC),
                )
            )
        return account

    async def get_account(self, account_id: str) -> Account:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
        if row is None:
            raise NotFound(f"account {account_id} does not exist")
        return Account(row.id, row.name, row.cams_enabled, row.queue_delivery)

    async def list_accounts(self) -> list[Account]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(accounts).order_by(accounts.c.created_at))).all()
        return [Account(r.id, r.name, r.cams_enabled, r.queue_delivery) for r in rows]

    async def update_account(
        self, account_id: str, *, cams_enabled: bool | None = None, queue_delivery: bool | None = None
    ) -> Account:
        values = {
            k: v for k, v in {"cams_enabled": cams_enabled, "queue_delivery": queue_delivery}.items() if v is not None
        }
        async with write(self.engine) as conn:
            result = await conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))
        if result.rowcount == 0:
            raise NotFound(f"account {account_id} does not exist")
        return await self.get_account(account_id)

    async def create_access_key(self, account_id: str, user_name: str | None = None) -> NewAccessKey:
        """A new key of the account itself or, with `user_name`, of one of its RAM users."""
        await self.get_account(account_id)
        key = NewAccessKey(new_access_key_id(), new_access_key_secret(), account_id, user_name)
        async with write(self.engine) as conn:
            if user_name is not None:
                exists = await conn.scalar(
                    select(ram_users.c.name).where(ram_users.c.account_id == account_id, ram_users.c.name == user_name)
                )
                if exists is None:
                    raise NotFound(f"RAM user {user_name} does not exist in account {account_id}")
            await conn.execute(
                access_keys.insert().values(
                    id=key.id,
                    account_id=account_id,
                    secret_enc=self.box.seal(key.secret),
                    active=True,
                    created_at=datetime.now(UTC),
                    user_name=user_name,
                )
            )
        return key

    async def list_access_keys(self, account_id: str, user_name: str | None = None) -> list[AccessKeyInfo]:
        """The account's AccessKeys (only a user's with `user_name`), oldest first; never a secret."""
        await self.get_account(account_id)
        query = select(access_keys).where(access_keys.c.account_id == account_id)
        if user_name is not None:
            query = query.where(access_keys.c.user_name == user_name)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(access_keys.c.created_at, access_keys.c.id))).all()
        return [AccessKeyInfo(r.id, r.account_id, r.user_name, r.active, r.created_at, r.last_used_at) for r in rows]

    async def delete_access_key(self, access_key_id: str) -> None:
        """Delete a disabled key; KeyInUse for an active one (disable it first, as Alibaba asks)."""
        async with write(self.engine) as conn:
            active = await conn.scalar(select(access_keys.c.active).where(access_keys.c.id == access_key_id))
            if active is None:
                raise NotFound(f"AccessKey {access_key_id} does not exist")
            if active:
                raise KeyInUse(f"AccessKey {access_key_id} is active: disable it first, then delete it")
            await conn.execute(delete(access_keys).where(access_keys.c.id == access_key_id))

    async def note_used(self, access_key_id: str) -> None:
        """Record that the key signed a good request: at most once a minute per key and process."""
        now = time.monotonic()
        if (
            access_key_id.startswith(STS_KEY_PREFIX)
            or now - self._used.get(access_key_id, -LAST_USE_EVERY) < LAST_USE_EVERY
        ):
            return
        if len(self._used) > 100_000:
            self._used.clear()
        self._used[access_key_id] = now
        async with write(self.engine) as conn:
            await conn.execute(
                update(access_keys).where(access_keys.c.id == access_key_id).values(last_used_at=datetime.now(UTC))
            )

    async def set_access_key_active(self, access_key_id: str, active: bool) -> None:
        async with write(self.engine) as conn:
            result = await conn.execute(
                update(access_keys).where(access_keys.c.id == access_key_id).values(active=active)
            )
        if result.rowcount == 0:
            raise NotFound(f"AccessKey {access_key_id} does not exist")

    async def get_credential(self, access_key_id: str) -> Credential | None:
        """The key and who it stands for: the account, one of its RAM users, or a role session."""
        if access_key_id.startswith(STS_KEY_PREFIX):
            return await self._sts_credential(access_key_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(_CREDENTIAL, {"key_id": access_key_id})).first()
        if row is None:
            return None
        # The rest of the request (subscription, queue names) uses this read of the account.
        principal = Principal(
            account_id=row.account_id,
            kind="root" if row.user_name is None else "user",
            access_key_id=access_key_id,
            user_name=row.user_name,
            subscribed=row.cams_enabled,
            queue_delivery=row.queue_delivery,
        )
        return Credential(access_key_id, self.box.open(row.secret_enc), row.active, principal)

    async def _sts_credential(self, access_key_id: str) -> Credential | None:
        # Expired rows are still returned (until purged), so the caller hears
        # InvalidSecurityToken.Expired rather than of an unknown key.
        async with self.engine.connect() as conn:
            row = (await conn.execute(_STS_CREDENTIAL, {"key_id": access_key_id})).first()
        if row is None:
            return None
        principal = Principal(
            account_id=row.account_id,
            kind="role",
            access_key_id=access_key_id,
            role_name=row.role_name,
            session_name=row.session_name,
            session_policy=row.session_policy,
            subscribed=row.cams_enabled,
            queue_delivery=row.queue_delivery,
        )
        return Credential(
            access_key_id,
            self.box.open(row.secret_enc),
            True,
            principal,
            security_token=self.box.open(row.token_enc),
            expires_at=row.expires_at,
        )
