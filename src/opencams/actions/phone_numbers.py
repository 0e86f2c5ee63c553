"""Phone-number actions: pull them from Meta, read them as stored, and set where their reports go."""

from __future__ import annotations

import logging

from ..domain.phone_numbers import Queues, StoredNumber, to_cams
from ..graph.errors import GraphApiError
from ..rpc.registry import Param
from ..services.sync import SyncFailed
from .declaration import CUST_SPACE_ID, CUST_SPACE_ID_OPTIONAL, ISV_CODE, PHONE_NUMBER, Call, Result, action

log = logging.getLogger("opencams.sync")


def _numbers(call: Call, numbers: list[StoredNumber]) -> Result:
    principal = call.principal
    queues = Queues.for_account(principal.account_id)
    return {"PhoneNumbers": [to_cams(n, queues, account_queues=principal.queue_delivery) for n in numbers]}


def log_sync_failure(call: Call, space_id: str, waba_id: str, exc: SyncFailed) -> None:
    """One structured line per failed sync; it names no token and no secret."""
    cause = exc.cause
    api = cause if isinstance(cause, GraphApiError) else None
    record = {
        "event": "sync_failed",
        "AccountId": call.principal.account_id,
        "CustSpaceId": space_id,
        "WabaId": waba_id,
        "error": type(cause).__name__,
        "meta_code": api.code if api else getattr(cause, "meta_code", None),
        "meta_subcode": api.subcode if api else None,
        "fbtrace_id": api.fbtrace_id if api else None,
        "attempts": exc.report.attempts,
        "elapsed_ms": round(exc.elapsed * 1000, 1),
    }
    # The RequestId is added to every line by the logging filter; the rest are structured fields.
    log.warning("sync failed: %s", record["error"], extra=record)


@action(
    "ChatappSyncPhoneNumber",
    access="update",
    params=(CUST_SPACE_ID,),
    summary="Pull the space's numbers from Meta (all pages), store them in one transaction, answer them.",
    success=True,
)
async def chatapp_sync_phone_number(call: Call, *, cust_space_id: str) -> Result:
    space = await call.services.spaces.owned(call.principal, cust_space_id)
    try:
        numbers = await call.services.sync.sync(space)
    except SyncFailed as exc:
        log_sync_failure(call, space.id, space.waba_id, exc)
        raise exc.cause from None
    return _numbers(call, numbers)


@action(
    "QueryChatappPhoneNumbers",
    access="get",
    params=(
        CUST_SPACE_ID_OPTIONAL,
        Param("Status", max_length=32, description="Only numbers with this Meta status (e.g. CONNECTED)."),
        ISV_CODE,
    ),
    summary="The space's numbers as stored by the last sync, without calling Meta.",
    success=True,
)
async def query_chatapp_phone_numbers(
    call: Call, *, cust_space_id: str | None, status: str | None, isv_code: str | None
) -> Result:
    space = await call.services.spaces.owned(call.principal, cust_space_id)
    numbers = await call.services.spaces.store.list_numbers(space.id)
    if status:
        numbers = [n for n in numbers if n.meta.status == status]
    return _numbers(call, numbers)


FLAG_HTTP = Param("HttpFlag", "flag", description="Y: deliver by HTTP to the callback URLs; N: no HTTP delivery.")
FLAG_QUEUE = Param("QueueFlag", "flag", description="Y: deliver to the account's queues; N: no queue delivery.")
URL_MAX = 1024


@action(
    "UpdatePhoneWebhook",
    access="update",
    params=(
        CUST_SPACE_ID,
        PHONE_NUMBER,
        Param("StatusCallbackUrl", max_length=URL_MAX, description="Where the number's status reports are posted."),
        Param("UpCallbackUrl", max_length=URL_MAX, description="Where the number's inbound messages are posted."),
        FLAG_HTTP,
        FLAG_QUEUE,
    ),
    summary="Set where a number's status reports and inbound messages go (HttpFlag=N clears the URLs).",
)
async def update_phone_webhook(
    call: Call,
    *,
    cust_space_id: str,
    phone_number: str,
    status_callback_url: str | None,
    up_callback_url: str | None,
    http_flag: bool | None,
    queue_flag: bool | None,
) -> Result:
    spaces = call.services.spaces
    space = await spaces.owned(call.principal, cust_space_id)
    number = await spaces.number(space, phone_number)
    await spaces.set_number_webhook(
        space,
        number,
        status_callback_url=status_callback_url,
        up_callback_url=up_callback_url,
        http=http_flag,
        queue=queue_flag,
    )
    return {}
