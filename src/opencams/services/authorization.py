"""Authorization of a call: the root account is always allowed; RAM principals need a policy grant."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from ..db.ram import RamStore, load_policy
from ..errors import PermissionDenied
from ..iam.diagnostic import encode_diagnostic
from ..iam.policy import ACCOUNT_LEVEL_IDENTITY_POLICY, Decision, PolicyDocument, RequestContext, evaluate
from ..principal import CallContext, Principal

log = logging.getLogger("opencams.authorization")


def resource_arn(account_id: str) -> str:
    """The resource a CAMS call acts on: cams has no resource-level authorization (alibaba-rpc.md §6)."""
    return f"acs:cams:*:{account_id}:*"


def principal_arn(principal: Principal) -> str:
    """The ARN of a RAM user or role session, as the diagnostic message names it."""
    if principal.kind == "user":
        return f"acs:ram::{principal.account_id}:user/{principal.user_name}"
    if principal.kind == "role":
        return f"acs:ram::{principal.account_id}:role/{principal.role_name}/{principal.session_name}"
    return f"acs:ram::{principal.account_id}:root"


def request_context(principal: Principal, ram_action: str, call: CallContext) -> RequestContext:
    """What the policies are evaluated against: the action, the resource and the common condition keys."""
    now = datetime.fromtimestamp(call.now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return RequestContext(
        action=ram_action,
        resource=resource_arn(principal.account_id),
        keys={
            "acs:SourceIp": call.source_ip,
            "acs:SecureTransport": call.secure_transport,
            "acs:CurrentTime": now,
            "acs:MFAPresent": False,
            "acs:AccessId": principal.access_key_id,
        },
    )


class Authorizer:
    """Decides whether a principal may call an action, from the policies stored now (no cache)."""

    def __init__(self, ram: RamStore) -> None:
        self.ram = ram

    async def decide(self, principal: Principal, ctx: RequestContext) -> Decision:
        """The RAM decision for a user or role session (the root account is not a RAM principal)."""
        session: PolicyDocument | None = None
        if principal.kind == "user" and principal.user_name is not None:
            identity = await self.ram.attached_policies(principal.account_id, "user", principal.user_name)
        elif principal.kind == "role" and principal.role_name is not None:
            identity = await self.ram.attached_policies(principal.account_id, "role", principal.role_name)
            if principal.session_policy is not None:
                session = load_policy(principal.session_policy)
        else:
            raise ValueError(f"{principal.kind} principal without a name cannot be authorized")
        return evaluate(identity, ctx, session_policy=session)

    async def authorize(self, principal: Principal, ram_action: str, call: CallContext) -> None:
        if principal.kind == "root":
            return
        ctx = request_context(principal, ram_action, call)
        decision = await self.decide(principal, ctx)
        if decision.allowed:
            return
        encoded = encode_diagnostic(decision, ctx, principal=principal_arn(principal), account_id=principal.account_id)
        log.info(
            "denied %s to %s: %s by %s",
            ctx.action,
            principal_arn(principal),
            decision.no_permission_type,
            decision.policy_name or decision.policy_type,
        )
        raise PermissionDenied(
            {
                "AuthAction": ctx.action,
                "AuthPrincipalType": "SubUser" if principal.kind == "user" else "AssumedRoleUser",
                "AuthPrincipalOwnerId": principal.account_id,
                "AuthPrincipalDisplayName": principal.display_name,
                "NoPermissionType": decision.no_permission_type or "ImplicitDeny",
                "PolicyType": decision.policy_type or ACCOUNT_LEVEL_IDENTITY_POLICY,
                "EncodedDiagnosticMessage": encoded,
            }
        )
