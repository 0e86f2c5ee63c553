"""Customer spaces as callers reach them: ownership, the numbers in them, their delivery settings, binding.

Every rule about whose space or number a call may touch lives here, so actions stay thin and a
space of another account is always answered exactly like one that does not exist.
"""

from __future__ import annotations

from ..db.spaces import Space, SpaceStore
from ..domain.errors import InvalidValue, NumberNotInSpace, SpaceNotFound, SpaceRequired
from ..domain.phone_numbers import StoredNumber, digits_only
from ..outbound import OutboundPolicy, OutboundRefused
from ..principal import Principal

# Number-state events go to a Redis stream per account; without Redis there is nowhere to put them.
QUEUE_NEEDS_REDIS = "queue delivery needs OPENCAMS_REDIS_URL, which this deployment does not set"


class SpaceService:
    """The caller's spaces and numbers."""

    def __init__(self, spaces: SpaceStore, outbound: OutboundPolicy, *, queues_available: bool) -> None:
        self.store = spaces
        self.outbound = outbound
        self.queues_available = queues_available

    async def owned(self, principal: Principal, cust_space_id: str | None) -> Space:
        """The caller's space; without an id, the account's only space.

        SpaceNotFound for a space that is missing or another account's (never told apart);
        SpaceRequired when the id is left out and the account has no space or several.
        """
        if cust_space_id is None:
            spaces = await self.store.list_spaces(principal.account_id)
            if len(spaces) != 1:
                raise SpaceRequired(
                    "CustSpaceId is mandatory for this action when the account does not have exactly one "
                    f"customer space (it has {len(spaces)})."
                )
            return spaces[0]
        space = await self.store.find_space(cust_space_id)
        if space is None or space.account_id != principal.account_id:
            raise SpaceNotFound("The resource does not belong to the current user.")
        return space

    async def number(self, space: Space, phone_number: str) -> StoredNumber:
        """The space's number with these digits (any formatting); NumberNotInSpace otherwise."""
        wanted = digits_only(phone_number)
        if wanted:
            for number in await self.store.list_numbers(space.id):
                if number.digits == wanted:
                    return number
        raise NumberNotInSpace("The phone number is not bound to this customer space.")

    async def owned_number(
        self, principal: Principal, cust_space_id: str | None, phone_number: str
    ) -> tuple[Space, StoredNumber]:
        """The caller's number; without a space id, found among all the account's spaces."""
        if cust_space_id is not None:
            space = await self.owned(principal, cust_space_id)
            return space, await self.number(space, phone_number)
        for space in await self.store.list_spaces(principal.account_id):
            try:
                return space, await self.number(space, phone_number)
            except NumberNotInSpace:
                continue
        raise NumberNotInSpace("The phone number is not bound to any customer space of this account.")

    async def check_callback(self, param: str, url: str) -> str:
        """The URL if the outbound policy lets opencams call it; InvalidValue naming `param` if not."""
        try:
            return await self.outbound.check_stored_url(url)
        except OutboundRefused as exc:
            raise InvalidValue(param, f"The URL is refused: {exc}.") from None

    async def set_number_webhook(
        self,
        space: Space,
        number: StoredNumber,
        *,
        status_callback_url: str | None,
        up_callback_url: str | None,
        http: bool | None,
        queue: bool | None,
    ) -> None:
        """Change only what was given; HttpFlag=N clears both URLs (no HTTP delivery, nowhere to send)."""
        changes: dict[str, object] = {}
        for param, column, url in (
            ("StatusCallbackUrl", "status_callback_url", status_callback_url),
            ("UpCallbackUrl", "up_callback_url", up_callback_url),
        ):
            if url is not None:
                changes[column] = await self.check_callback(param, url)
        if http is False:
            changes.update(status_callback_url=None, up_callback_url=None)
        if queue is not None:
            changes["queue_flag"] = queue
        if changes:
            await self.store.set_number_callbacks(space.id, number.meta.id, changes)

    async def set_space_webhook(
        self, space: Space, *, status_callback_url: str | None, http: bool | None, queue: bool | None
    ) -> Space:
        """Where the space's number-state events go; unset parameters keep their value."""
        url = space.webhook_url
        if status_callback_url is not None:
            url = await self.check_callback("StatusCallbackUrl", status_callback_url)
        http_on = space.webhook_http if http is None else http
        queue_on = space.webhook_queue if queue is None else queue
        if http_on and not url:
            raise InvalidValue("StatusCallbackUrl", "HTTP delivery (HttpFlag=Y) needs a StatusCallbackUrl.")
        if queue is True and not self.queues_available:
            raise InvalidValue("QueueFlag", f"It cannot be Y: {QUEUE_NEEDS_REDIS}.")
        await self.store.set_space_webhook(space.id, url=url, http=http_on, queue=queue_on)
        return await self.store.get_space(space.id)
