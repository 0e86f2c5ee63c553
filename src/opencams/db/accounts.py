"""Accounts and their AccessKeys: creation, subscription, activation, credential lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..ids import new_access_key_id, new_access_key_secret, new_account_id
from ..principal import Credential, Principal
from ..secretbox import SecretBox
from .engine import write
from .tables import access_keys, accounts, ram_users, sts_credentials

# Temporary AccessKeys issued by AssumeRole carry Alibaba's prefix; they live in their own table.
STS_KEY_PREFIX = "STS."


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
