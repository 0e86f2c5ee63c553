"""Who is calling and from where: the principal an AccessKey or STS credential stands for, and the call's facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["root", "user", "role"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller after authentication; RAM users and STS sessions belong to `account_id`."""

    account_id: str
    kind: PrincipalKind
    access_key_id: str
    user_name: str | None = None
    role_name: str | None = None
    session_name: str | None = None
    session_policy: str | None = None
    # The account as read with the credential, for the rest of this call (no second read).
    subscribed: bool = True
    queue_delivery: bool = False

    @property
    def display_name(self) -> str:
        """The name Alibaba shows in AccessDeniedDetail.AuthPrincipalDisplayName."""
        if self.kind == "user" and self.user_name:
            return self.user_name
        if self.kind == "role" and self.role_name:
            return f"{self.role_name}:{self.session_name or ''}"
        return self.account_id


@dataclass(frozen=True, slots=True)
class Credential:
    """A stored AccessKey (or STS credential): the secret to verify with and who it stands for."""

    access_key_id: str
    secret: str
    active: bool
    principal: Principal
    security_token: str | None = None
    expires_at: float | None = None


@dataclass(frozen=True, slots=True)
class CallContext:
    """Facts about a call that RAM conditions may test."""

    source_ip: str
    secure_transport: bool
    now: float
