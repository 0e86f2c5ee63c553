"""RAM users, custom policies and their attachments, roles and the STS credentials they issue: all their SQL."""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import string
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import and_, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from ..iam.policy import SYSTEM_POLICIES, NamedPolicy, PolicyDocument, PolicyError, Statement, parse_policy
from ..secretbox import SecretBox
from .accounts import STS_KEY_PREFIX, NotFound
from .engine import write
from .tables import access_keys, accounts, ram_attachments, ram_policies, ram_roles, ram_users, sts_credentials

log = logging.getLogger("opencams.ram")

PrincipalType = Literal["user", "role"]
PolicyType = Literal["System", "Custom"]

# Alibaba's limits: AssumeRole DurationSeconds is 900 up to the role's MaxSessionDuration (at most 12 h).
MIN_SESSION_DURATION = 900
MAX_SESSION_DURATION = 43200
DEFAULT_SESSION_DURATION = 3600
# Expired STS rows are kept this long so their callers hear "Expired" rather than "not found".
STS_RETENTION = 86400.0

# Name rules of RAM's CreateUser, CreatePolicy, CreateRole and AssumeRole's RoleSessionName.
_USER_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
_POLICY_NAME = re.compile(r"[A-Za-z0-9-]{1,128}", re.ASCII)
_ROLE_NAME = re.compile(r"[A-Za-z0-9.-]{1,64}", re.ASCII)
_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_-]{2,64}", re.ASCII)
_ALNUM = string.ascii_letters + string.digits


class RamError(ValueError):
    """A RAM request the operator must correct: a bad name, a duplicate, an untrusted user."""


@dataclass(frozen=True, slots=True)
class RamUser:
    account_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """A policy as listed for an account: System ones have no creation date here."""

    name: str
    policy_type: PolicyType
    attachment_count: int
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class Attachment:
    account_id: str
    principal_type: PrincipalType
    principal_name: str
    policy_name: str
    policy_type: PolicyType
    attached_at: datetime


@dataclass(frozen=True, slots=True)
class Role:
    account_id: str
    name: str
    role_id: str
    trust_users: tuple[str, ...]
    max_session_duration: int
    created_at: datetime

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account_id}:role/{self.name}"

    @property
    def trust_policy(self) -> str:
        """The trust policy (AssumeRolePolicyDocument) equivalent to `trust_users`, as RAM shows it."""
        principals = [f"acs:ram::{self.account_id}:user/{user}" for user in self.trust_users]
        return json.dumps(
            {
                "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"RAM": principals}}],
                "Version": "1",
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True, slots=True)
class StsSession:
    """What AssumeRole hands out; the secret and the token are shown only now."""

    account_id: str
    role_name: str
    session_name: str
    access_key_id: str
    access_key_secret: str
    security_token: str
    expires_at: float
    arn: str
    assumed_role_id: str

    @property
    def expiration(self) -> str:
        return datetime.fromtimestamp(self.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_name(kind: str, name: str, pattern: re.Pattern[str], rule: str) -> None:
    if not pattern.fullmatch(name):
        raise RamError(f"{kind} name {name!r} is not valid: {rule}")


def check_user_name(name: str) -> None:
    _check_name("user", name, _USER_NAME, "1 to 64 letters, digits, '.', '_' or '-'")


def check_policy_name(name: str) -> None:
    _check_name("policy", name, _POLICY_NAME, "1 to 128 letters, digits or '-'")
    if name.casefold() in (known.casefold() for known in SYSTEM_POLICIES):
        raise RamError(f"policy name {name!r} is taken by a System policy")


def check_role_name(name: str) -> None:
    _check_name("role", name, _ROLE_NAME, "1 to 64 letters, digits, '.' or '-'")


def check_session_name(name: str) -> None:
    _check_name("session", name, _SESSION_NAME, "2 to 64 letters, digits, '.', '@', '_' or '-'")


_DENY_ALL = PolicyDocument(statements=(Statement("Deny", ("*",), None, ("*",)),))


@lru_cache(maxsize=1024)
def load_policy(document: str) -> PolicyDocument:
    """A stored policy document, parsed once per process (parsing is pure, so the text is the key).

    Documents were validated when stored; one that no longer parses (a stricter policy language in
    a newer version) denies everything rather than silently dropping its Deny statements.
    """
    try:
        return parse_policy(document)
    except PolicyError as exc:
        log.error("a stored policy document no longer parses and denies everything: %s", exc)
        return _DENY_ALL


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _new_role_id() -> str:
    return secrets.choice("123456789") + _random(string.digits, 17)


def _new_sts_key_id() -> str:
    return STS_KEY_PREFIX + _random(_ALNUM, 25)


def _new_security_token() -> str:
    # Opaque, as Alibaba's are, and like theirs it carries '+' and '/', which the SDKs must encode.
    return "CAIS" + base64.b64encode(secrets.token_bytes(120)).decode("ascii")


class RamStore:
    """All SQL about RAM users, policies, attachments, roles and STS credentials."""

    def __init__(self, engine: AsyncEngine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box

    # --- users ------------------------------------------------------------------------------

    async def create_user(self, account_id: str, name: str) -> RamUser:
        check_user_name(name)
        user = RamUser(account_id, name, datetime.now(UTC))
        async with write(self.engine) as conn:
            await _require_account(conn, account_id)
            try:
                await conn.execute(
                    ram_users.insert().values(account_id=account_id, name=name, created_at=user.created_at)
                )
            except IntegrityError:
                raise RamError(f"user {name} already exists in account {account_id}") from None
        return user

    async def list_users(self, account_id: str) -> list[RamUser]:
        async with self.engine.connect() as conn:
            await _require_account(conn, account_id)
            rows = (
                await conn.execute(
                    select(ram_users).where(ram_users.c.account_id == account_id).order_by(ram_users.c.name)
                )
            ).all()
        return [RamUser(r.account_id, r.name, r.created_at) for r in rows]

    async def delete_user(self, account_id: str, name: str) -> None:
        """Delete a RAM user; RamError while it still has AccessKeys or attached policies (as RAM does)."""
        async with write(self.engine) as conn:
            await _require_principal(conn, account_id, "user", name)
            keys = await conn.scalar(
                select(func.count()).where(access_keys.c.account_id == account_id, access_keys.c.user_name == name)
            )
            policies = await conn.scalar(select(func.count()).where(*_attachment_of(account_id, "user", name)))
            if keys or policies:
                raise RamError(
                    f"user {name} still has {keys} AccessKey(s) and {policies} attached policy(ies): "
                    "delete the keys and detach the policies first"
                )
            await conn.execute(delete(ram_users).where(ram_users.c.account_id == account_id, ram_users.c.name == name))

    # --- policies ---------------------------------------------------------------------------

    async def create_policy(self, account_id: str, name: str, document: str) -> PolicyInfo:
        """Store a Custom policy; PolicyError (naming the fault) if RAM would refuse the document."""
        check_policy_name(name)
        parse_policy(document)
        created = datetime.now(UTC)
        async with write(self.engine) as conn:
            await _require_account(conn, account_id)
            try:
                await conn.execute(
                    ram_policies.insert().values(
                        account_id=account_id, name=name, document=document, created_at=created
                    )
                )
            except IntegrityError:
                raise RamError(f"policy {name} already exists in account {account_id}") from None
        return PolicyInfo(name, "Custom", 0, created)

    async def get_policy_document(self, account_id: str, name: str) -> tuple[PolicyType, str]:
        """The policy's type and its document text."""
        if name in SYSTEM_POLICIES:
            return "System", json.dumps(dict(SYSTEM_POLICIES[name].document.source), indent=2)
        async with self.engine.connect() as conn:
            await _require_account(conn, account_id)
            document = await conn.scalar(
                select(ram_policies.c.document).where(
                    ram_policies.c.account_id == account_id, ram_policies.c.name == name
                )
            )
        if document is None:
            raise NotFound(f"policy {name} does not exist in account {account_id}")
        return "Custom", str(document)

    async def list_policies(self, account_id: str) -> list[PolicyInfo]:
        """The System policies, then the account's Custom ones, with how often each is attached."""
        async with self.engine.connect() as conn:
            await _require_account(conn, account_id)
            custom = (
                await conn.execute(
                    select(ram_policies.c.name, ram_policies.c.created_at)
                    .where(ram_policies.c.account_id == account_id)
                    .order_by(ram_policies.c.name)
                )
            ).all()
            counts = {
                (r.policy_type, r.policy_name): r.n
                for r in await conn.execute(
                    select(ram_attachments.c.policy_type, ram_attachments.c.policy_name, func.count().label("n"))
                    .where(ram_attachments.c.account_id == account_id)
                    .group_by(ram_attachments.c.policy_type, ram_attachments.c.policy_name)
                )
            }
        system = [PolicyInfo(name, "System", counts.get(("System", name), 0), None) for name in SYSTEM_POLICIES]
        return system + [PolicyInfo(r.name, "Custom", counts.get(("Custom", r.name), 0), r.created_at) for r in custom]

    async def delete_policy(self, account_id: str, name: str) -> None:
        """Delete a Custom policy; RamError for a System one or one still attached."""
        if name in SYSTEM_POLICIES:
            raise RamError(f"{name} is a System policy and cannot be deleted")
        async with write(self.engine) as conn:
            await _require_account(conn, account_id)
            attached = (
                await conn.execute(
                    select(ram_attachments.c.principal_type, ram_attachments.c.principal_name).where(
                        ram_attachments.c.account_id == account_id,
                        ram_attachments.c.policy_type == "Custom",
                        ram_attachments.c.policy_name == name,
                    )
                )
            ).all()
            if attached:
                holders = ", ".join(f"{r.principal_type} {r.principal_name}" for r in attached)
                raise RamError(f"policy {name} is still attached to {holders}: detach it first")
            result = await conn.execute(
                delete(ram_policies).where(ram_policies.c.account_id == account_id, ram_policies.c.name == name)
            )
        if result.rowcount == 0:
            raise NotFound(f"policy {name} does not exist in account {account_id}")

    async def attach_policy(
        self, account_id: str, principal_type: PrincipalType, principal_name: str, policy_name: str
    ) -> Attachment:
        async with write(self.engine) as conn:
            await _require_principal(conn, account_id, principal_type, principal_name)
            policy_type = await _policy_type(conn, account_id, policy_name)
            attachment = Attachment(
                account_id, principal_type, principal_name, policy_name, policy_type, datetime.now(UTC)
            )
            try:
                await conn.execute(
                    ram_attachments.insert().values(
                        account_id=account_id,
                        principal_type=principal_type,
                        principal_name=principal_name,
                        policy_type=policy_type,
                        policy_name=policy_name,
                        created_at=attachment.attached_at,
                    )
                )
            except IntegrityError:
                raise RamError(
                    f"policy {policy_name} is already attached to {principal_type} {principal_name}"
                ) from None
        return attachment

    async def detach_policy(
        self, account_id: str, principal_type: PrincipalType, principal_name: str, policy_name: str
    ) -> PolicyType:
        """Detach the policy; returns its type."""
        async with write(self.engine) as conn:
            await _require_principal(conn, account_id, principal_type, principal_name)
            policy_type = await _policy_type(conn, account_id, policy_name)
            result = await conn.execute(
                delete(ram_attachments).where(
                    *_attachment_of(account_id, principal_type, principal_name),
                    ram_attachments.c.policy_type == policy_type,
                    ram_attachments.c.policy_name == policy_name,
                )
            )
        if result.rowcount == 0:
            raise NotFound(f"policy {policy_name} is not attached to {principal_type} {principal_name}")
        return policy_type

    async def list_attachments(
        self, account_id: str, principal_type: PrincipalType, principal_name: str
    ) -> list[Attachment]:
        async with self.engine.connect() as conn:
            await _require_principal(conn, account_id, principal_type, principal_name)
            rows = (
                await conn.execute(
                    select(ram_attachments)
                    .where(*_attachment_of(account_id, principal_type, principal_name))
                    .order_by(ram_attachments.c.created_at, ram_attachments.c.policy_name)
                )
            ).all()
        return [
            Attachment(r.account_id, principal_type, r.principal_name, r.policy_name, r.policy_type, r.created_at)
            for r in rows
        ]

    async def attached_policies(
        self, account_id: str, principal_type: PrincipalType, principal_name: str
    ) -> list[NamedPolicy]:
        """The identity policies of a user or role, parsed, in attachment order: one query per call."""
        joined = ram_attachments.outerjoin(
            ram_policies,
            and_(
                ram_attachments.c.policy_type == "Custom",
                ram_policies.c.account_id == ram_attachments.c.account_id,
                ram_policies.c.name == ram_attachments.c.policy_name,
            ),
        )
        query = (
            select(ram_attachments.c.policy_type, ram_attachments.c.policy_name, ram_policies.c.document)
            .select_from(joined)
            .where(*_attachment_of(account_id, principal_type, principal_name))
            .order_by(ram_attachments.c.created_at, ram_attachments.c.policy_name)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        policies: list[NamedPolicy] = []
        for row in rows:
            if row.policy_type == "System":
                system = SYSTEM_POLICIES.get(row.policy_name)
                if system is not None:
                    policies.append(system)
            elif row.document is not None:
                policies.append(NamedPolicy(row.policy_name, "Custom", load_policy(row.document)))
        return policies

    # --- roles and STS ----------------------------------------------------------------------

    async def create_role(
        self,
        account_id: str,
        name: str,
        trust_users: tuple[str, ...],
        max_session_duration: int = MAX_SESSION_DURATION,
    ) -> Role:
        """A role the listed RAM users may assume (its trust policy)."""
        check_role_name(name)
        if not trust_users:
            raise RamError(f"role {name} needs at least one trusted user")
        if not 3600 <= max_session_duration <= MAX_SESSION_DURATION:
            raise RamError(f"MaxSessionDuration must be 3600 to {MAX_SESSION_DURATION} seconds")
        unique = tuple(dict.fromkeys(trust_users))
        role = Role(account_id, name, _new_role_id(), unique, max_session_duration, datetime.now(UTC))
        async with write(self.engine) as conn:
            await _require_account(conn, account_id)
            known = set(
                (
                    await conn.execute(
                        select(ram_users.c.name).where(
                            ram_users.c.account_id == account_id, ram_users.c.name.in_(unique)
                        )
                    )
                ).scalars()
            )
            missing = [user for user in unique if user not in known]
            if missing:
                raise NotFound(f"RAM user {missing[0]} does not exist in account {account_id}")
            try:
                await conn.execute(
                    ram_roles.insert().values(
                        account_id=account_id,
                        name=name,
                        role_id=role.role_id,
                        trust_users=json.dumps(list(unique)),
                        max_session_duration=max_session_duration,
                        created_at=role.created_at,
                    )
                )
            except IntegrityError:
                raise RamError(f"role {name} already exists in account {account_id}") from None
        return role

    async def list_roles(self, account_id: str) -> list[Role]:
        async with self.engine.connect() as conn:
            await _require_account(conn, account_id)
            rows = (
                await conn.execute(
                    select(ram_roles).where(ram_roles.c.account_id == account_id).order_by(ram_roles.c.name)
                )
            ).all()
        return [_role(r) for r in rows]

    async def delete_role(self, account_id: str, name: str) -> None:
        """Delete a role; RamError while policies are attached to it. Its sessions end with it."""
        async with write(self.engine) as conn:
            await _require_principal(conn, account_id, "role", name)
            policies = await conn.scalar(select(func.count()).where(*_attachment_of(account_id, "role", name)))
            if policies:
                raise RamError(f"role {name} still has {policies} attached policy(ies): detach them first")
            await conn.execute(
                delete(sts_credentials).where(
                    sts_credentials.c.account_id == account_id, sts_credentials.c.role_name == name
                )
            )
            await conn.execute(delete(ram_roles).where(ram_roles.c.account_id == account_id, ram_roles.c.name == name))

    async def assume_role(
        self,
        account_id: str,
        role_name: str,
        session_name: str,
        *,
        duration: int = DEFAULT_SESSION_DURATION,
        session_policy: str | None = None,
        user_name: str | None = None,
        now: float | None = None,
    ) -> StsSession:
        """Issue temporary credentials for the role, narrowed by `session_policy` when given.

        With `user_name`, the role's trust policy must name that user. `now` lets tests issue
        credentials that are already expired or about to expire.
        """
        check_session_name(session_name)
        if session_policy is not None:
            parse_policy(session_policy)
        issued = time.time() if now is None else now
        async with write(self.engine) as conn:
            row = (
                await conn.execute(
                    select(ram_roles).where(ram_roles.c.account_id == account_id, ram_roles.c.name == role_name)
                )
            ).first()
            if row is None:
                await _require_account(conn, account_id)
                raise NotFound(f"role {role_name} does not exist in account {account_id}")
            role = _role(row)
            if not MIN_SESSION_DURATION <= duration <= role.max_session_duration:
                raise RamError(
                    f"DurationSeconds must be {MIN_SESSION_DURATION} to {role.max_session_duration} "
                    f"(the MaxSessionDuration of role {role_name}), got {duration}"
                )
            if user_name is not None and user_name not in role.trust_users:
                raise RamError(f"user {user_name} is not trusted by role {role_name}, so it may not assume it")
            session = StsSession(
                account_id=account_id,
                role_name=role_name,
                session_name=session_name,
                access_key_id=_new_sts_key_id(),
                access_key_secret=_random(_ALNUM, 44),
                security_token=_new_security_token(),
                # Whole seconds, so the stored expiry is exactly the Expiration shown.
                expires_at=float(int(issued) + duration),
                arn=f"{role.arn}/{session_name}",
                assumed_role_id=f"{role.role_id}:{session_name}",
            )
            await conn.execute(delete(sts_credentials).where(sts_credentials.c.expires_at < issued - STS_RETENTION))
            await conn.execute(
                sts_credentials.insert().values(
                    id=session.access_key_id,
                    account_id=account_id,
                    role_name=role_name,
                    session_name=session_name,
                    secret_enc=self.box.seal(session.access_key_secret),
                    token_enc=self.box.seal(session.security_token),
                    session_policy=session_policy,
                    expires_at=session.expires_at,
                    created_at=datetime.now(UTC),
                )
            )
        return session


def _role(row: Any) -> Role:
    return Role(
        row.account_id,
        row.name,
        row.role_id,
        tuple(json.loads(row.trust_users)),
        row.max_session_duration,
        row.created_at,
    )


def _attachment_of(
    account_id: str, principal_type: PrincipalType, principal_name: str
) -> tuple[ColumnElement[bool], ...]:
    return (
        ram_attachments.c.account_id == account_id,
        ram_attachments.c.principal_type == principal_type,
        ram_attachments.c.principal_name == principal_name,
    )


async def _require_account(conn: AsyncConnection, account_id: str) -> None:
    if await conn.scalar(select(accounts.c.id).where(accounts.c.id == account_id)) is None:
        raise NotFound(f"account {account_id} does not exist")


async def _require_principal(conn: AsyncConnection, account_id: str, principal_type: PrincipalType, name: str) -> None:
    table = ram_users if principal_type == "user" else ram_roles
    found = await conn.scalar(select(table.c.name).where(table.c.account_id == account_id, table.c.name == name))
    if found is None:
        await _require_account(conn, account_id)
        label = "RAM user" if principal_type == "user" else "role"
        raise NotFound(f"{label} {name} does not exist in account {account_id}")


async def _policy_type(conn: AsyncConnection, account_id: str, name: str) -> PolicyType:
    if name in SYSTEM_POLICIES:
        return "System"
    found = await conn.scalar(
        select(ram_policies.c.name).where(ram_policies.c.account_id == account_id, ram_policies.c.name == name)
    )
    if found is None:
        raise NotFound(f"policy {name} does not exist in account {account_id}")
    return "Custom"
