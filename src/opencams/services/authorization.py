"""Authorization of a call: the root account is always allowed; RAM principals need a policy grant."""

from __future__ import annotations

from ..errors import PermissionDenied
from ..principal import Principal
from ..rpc.gateway import CallContext
from ..rpc.registry import ActionSpec


class Authorizer:
    """Decides whether a principal may call an action."""

    async def authorize(self, principal: Principal, action: ActionSpec, request: CallContext) -> None:
        if principal.kind == "root":
            return
        raise PermissionDenied(
            {
                "AuthAction": action.ram_action,
                "AuthPrincipalType": "SubUser" if principal.kind == "user" else "AssumedRoleUser",
                "AuthPrincipalOwnerId": principal.account_id,
                "AuthPrincipalDisplayName": principal.display_name,
                "NoPermissionType": "ImplicitDeny",
                "PolicyType": "AccountLevelIdentityBasedPolicy",
            }
        )
