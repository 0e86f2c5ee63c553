"""WABA-level actions: bind a WABA to a space, read it and its business, and say where its events go."""

from __future__ import annotations

from ..rpc.registry import Param
from .declaration import CUST_SPACE_ID, CUST_SPACE_ID_OPTIONAL, ISV_CODE, Call, Result, action
from .phone_numbers import FLAG_HTTP, FLAG_QUEUE, URL_MAX

# Meta's RESTRICTED is what CAMS documents as DISABLED; every other value passes as Meta wrote it.
REVIEW_STATUS = {"RESTRICTED": "DISABLED"}
WABA_ID = Param(
    "WabaId",
    required=True,
    max_length=32,
    pattern=r"[0-9]{1,32}",
    pattern_help="It must be Meta's numeric WABA id.",
    description="The WhatsApp Business Account id at Meta (digits).",
    example="102290129340398",
)


@action(
    "ChatappBindWaba",
    access="update",
    params=(WABA_ID,),
    summary="Check a WABA at Meta, subscribe the app to its webhooks, and bind it to a (new) customer space.",
    success=True,
)
async def chatapp_bind_waba(call: Call, *, waba_id: str) -> Result:
    space, _ = await call.services.waba.bind(call.principal, waba_id)
    return {"Data": {"CustSpaceId": space.id, "WabaId": space.waba_id}}


@action(
    "QueryChatappBindWaba",
    access="get",
    params=(CUST_SPACE_ID_OPTIONAL, ISV_CODE),
    summary="The WABA bound to a customer space, as Meta has it now.",
    success=True,
)
async def query_chatapp_bind_waba(call: Call, *, cust_space_id: str | None, isv_code: str | None) -> Result:
    space = await call.services.spaces.owned(call.principal, cust_space_id)
    waba = await call.services.waba.details(space)
    status = waba.account_review_status
    data = {
        "Id": waba.id,
        "Name": waba.name,
        "Currency": waba.currency,
        "AccountReviewStatus": REVIEW_STATUS.get(status, status) if status else None,
        "MessageTemplateNamespace": waba.message_template_namespace,
        "PrimaryBusinessLocation": waba.primary_business_location,
        "AuthInternationalRateEligibility": waba.auth_international_rate_eligibility,
        "MarketingMessageLiteStatus": waba.marketing_messages_lite_api_status,
        "BusinessId": waba.business_id,
        "BusinessName": waba.business_name,
    }
    return {"Data": {k: v for k, v in data.items() if v is not None}}


@action(
    "QueryWabaBusinessInfo",
    access="get",
    params=(CUST_SPACE_ID, WABA_ID),
    summary="The business portfolio that owns the space's WABA: id, name, verification status, vertical.",
    success=True,
)
async def query_waba_business_info(call: Call, *, cust_space_id: str, waba_id: str) -> Result:
    space = await call.services.spaces.owned(call.principal, cust_space_id)
    business = await call.services.waba.business(space, waba_id)
    data = {
        "BusinessId": business.id,
        "BusinessName": business.name,
        "VerificationStatus": business.verification_status,
        "Vertical": business.vertical,
    }
    return {"Data": {k: v for k, v in data.items() if v is not None}}


@action(
    "UpdateAccountWebhook",
    access="update",
    params=(
        CUST_SPACE_ID,
        Param(
            "StatusCallbackUrl",
            max_length=URL_MAX,
            description="Where the space's number-state events are posted (signed, retried).",
        ),
        FLAG_HTTP,
        FLAG_QUEUE,
    ),
    summary="Set where the space's number-state events go: an HTTP URL, the account's queue, or both.",
)
async def update_account_webhook(
    call: Call, *, cust_space_id: str, status_callback_url: str | None, http_flag: bool | None, queue_flag: bool | None
) -> Result:
    spaces = call.services.spaces
    space = await spaces.owned(call.principal, cust_space_id)
    await spaces.set_space_webhook(space, status_callback_url=status_callback_url, http=http_flag, queue=queue_flag)
    return {}
