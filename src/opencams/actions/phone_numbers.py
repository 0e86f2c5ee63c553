"""Phone-number actions: ChatappSyncPhoneNumber (pull from Meta) and QueryChatappPhoneNumbers (read stored)."""

from __future__ import annotations

import json
import logging
from typing import Any

from ..db.accounts import AccountStore
from ..db.spaces import Space, SpaceStore
from ..domain.phone_numbers import Queues, StoredNumber, digits_only, to_cams
from ..errors import PhoneNumberNotBound, UnknownResourceOwner, invalid_parameter
from ..graph.errors import GraphApiError
from ..outbound import OutboundPolicy, OutboundRefused
from ..rpc.registry import Invocation, Param, Registry
from ..services.sync import SyncFailed, SyncService
from .upstream import upstream_error

log = logging.getLogger("opencams.sync")

CUST_SPACE_ID = Param("CustSpaceId", "string", required=True, max_length=64)


def log_sync_failure(inv: Invocation, space: Space, exc: SyncFailed) -> None:
    """One structured line per failed sync; it names no token and no secret."""
    cause = exc.cause
    api = cause if isinstance(cause, GraphApiError) else None
    record = {
        "event": "sync_failed",
        "RequestId": inv.request_id,
        "AccountId": space.account_id,
        "CustSpaceId": space.id,
        "WabaId": space.waba_id,
        "error": type(cause).__name__,
        "meta_code": api.code if api else None,
        "meta_subcode": api.subcode if api else None,
        "fbtrace_id": api.fbtrace_id if api else None,
        "attempts": exc.report.attempts,
        "elapsed_ms": round(exc.elapsed * 1000, 1),
    }
    log.warning(json.dumps(record, separators=(",", ":")))


class PhoneNumberActions:
    """Handlers bound to the stores and the sync service they use."""

    def __init__(self, accounts: AccountStore, spaces: SpaceStore, sync: SyncService, outbound: OutboundPolicy) -> None:
        self.accounts = accounts
        self.spaces = spaces
        self.sync_service = sync
        self.outbound = outbound

    async def owned_space(self, inv: Invocation, cust_space_id: str, resource_owner_id: int | None) -> Space:
        """The caller's space, or Unknown.ResourceOwnerId whether it is missing or someone else's."""
        if resource_owner_id is not None and str(resource_owner_id) != inv.principal.account_id:
            raise UnknownResourceOwner()
        space = await self.spaces.find_space(cust_space_id)
        if space is None or space.account_id != inv.principal.account_id:
            raise UnknownResourceOwner()
        return space

    async def render(self, space: Space, numbers: list[StoredNumber]) -> dict[str, Any]:
        account = await self.accounts.recent_account(space.account_id)
        queues = Queues.for_account(account.id) if account.queue_delivery else None
        return {
            "Code": "OK",
            "Message": "OK",
            "Success": True,
            "PhoneNumbers": [to_cams(n, queues) for n in numbers],
        }

    def register(self, registry: Registry) -> None:
        @registry.action("ChatappSyncPhoneNumber", params=(CUST_SPACE_ID,), rate_limit="10/s", access_level="update")
        async def chatapp_sync_phone_number(
            inv: Invocation, *, cust_space_id: str, resource_owner_id: int | None, **_: Any
        ) -> dict[str, Any]:
            space = await self.owned_space(inv, cust_space_id, resource_owner_id)
            try:
                numbers = await self.sync_service.sync(space)
            except SyncFailed as exc:
                log_sync_failure(inv, space, exc)
                secrets = self.sync_service.secrets_for(space)
                raise upstream_error(exc.cause, retry_after=exc.retry_after, secrets=secrets) from None
            return await self.render(space, numbers)

        @registry.action(
            "QueryChatappPhoneNumbers",
            params=(
                Param("CustSpaceId", "string", required=True, max_length=64),
                Param("Status", "string", max_length=32),
                Param("IsvCode", "string", max_length=128),
            ),
        )
        async def query_chatapp_phone_numbers(
            inv: Invocation,
            *,
            cust_space_id: str,
            status: str | None,
            resource_owner_id: int | None,
            **_: Any,
        ) -> dict[str, Any]:
            space = await self.owned_space(inv, cust_space_id, resource_owner_id)
            numbers = await self.spaces.list_numbers(space.id)
            if status:
                numbers = [n for n in numbers if n.meta.status == status]
            return await self.render(space, numbers)

        @registry.action(
            "UpdatePhoneWebhook",
            params=(
                Param("CustSpaceId", "string", required=True, max_length=64),
                Param("PhoneNumber", "string", required=True, max_length=32),
                Param("StatusCallbackUrl", "string", max_length=1024),
                Param("UpCallbackUrl", "string", max_length=1024),
                Param("HttpFlag", "string", max_length=1),
            ),
            access_level="update",
        )
        async def update_phone_webhook(
            inv: Invocation,
            *,
            cust_space_id: str,
            phone_number: str,
            status_callback_url: str | None,
            up_callback_url: str | None,
            http_flag: str | None,
            resource_owner_id: int | None,
            **_: Any,
        ) -> dict[str, Any]:
            space = await self.owned_space(inv, cust_space_id, resource_owner_id)
            for name, url in (("StatusCallbackUrl", status_callback_url), ("UpCallbackUrl", up_callback_url)):
                if url is not None:
                    try:
                        await self.outbound.check_stored_url(url)
                    except OutboundRefused as exc:
                        raise invalid_parameter(name, f"The URL is refused: {exc}.") from None
            if http_flag not in (None, "Y", "N"):
                raise invalid_parameter("HttpFlag", "It must be Y or N.")
            wanted = digits_only(phone_number)
            number = next(
                (
                    n
                    for n in await self.spaces.list_numbers(space.id)
                    if n.meta.display_phone_number and digits_only(n.meta.display_phone_number) == wanted
                ),
                None,
            )
            if number is None or not wanted:
                raise PhoneNumberNotBound()
            changes: dict[str, str | None]
            if http_flag == "N":
                # HTTP delivery off: the number keeps no callback URLs.
                changes = {"status_callback_url": None, "up_callback_url": None}
            else:
                changes = {
                    column: url
                    for column, url in (
                        ("status_callback_url", status_callback_url),
                        ("up_callback_url", up_callback_url),
                    )
                    if url is not None
                }
            if changes:
                await self.spaces.set_number_callbacks(space.id, number.meta.id, changes)
            return {"Code": "OK", "Message": "OK", "Success": True}
