"""A number's life: add it to the WABA, verify it with a code, register and deregister it; pre-validated numbers.

Each step is carried out at Meta and the number is then stored as Meta has it (status,
CodeVerificationStatus), so QueryChatappPhoneNumbers shows it at once. The two-step PIN Meta's
register needs is opencams's own (services/lifecycle.py): no action takes or answers one.
"""

from __future__ import annotations

from ..domain.errors import NotSupported
from ..rpc.registry import Param
from .declaration import CUST_SPACE_ID, PHONE_NUMBER, Call, Result, action

VERIFY_CODE = Param(
    "VerifyCode",
    required=True,
    max_length=6,
    pattern=r"[0-9]{6}",
    pattern_help="It must be the 6-digit code Meta sent.",
    description="The 6-digit code Meta sent to the number (GetChatappVerifyCode).",
    example="223222",
)


@action(
    "AddChatappPhoneNumber",
    access="update",
    params=(
        CUST_SPACE_ID,
        Param(
            "Cc",
            required=True,
            max_length=4,
            pattern=r"\+?[1-9][0-9]{0,2}",
            pattern_help="It must be a country calling code of 1 to 3 digits (e.g. 86).",
            description="The number's country calling code.",
            example="86",
        ),
        Param(
            "PhoneNumber",
            required=True,
            max_length=14,
            pattern=r"[0-9]{4,14}",
            pattern_help="It must be the number without its country code, 4 to 14 digits (e.g. 13800000000).",
            description="The number WITHOUT its country code (the only action that takes it so).",
            example="13800000000",
        ),
        Param(
            "PreValidateId",
            max_length=32,
            pattern=r"[0-9]{1,32}",
            pattern_help="It must be the numeric id of a pre-verified number at Meta.",
            description="Deprecated by CAMS: the id of a number Meta pre-verified, passed on as preverified_id.",
        ),
        Param(
            "VerifiedName",
            required=True,
            max_length=75,
            description="The display name the number shows (Meta's verified_name, at most 75 characters).",
            example="Alibaba",
        ),
    ),
    summary="Add a number to the space's WABA at Meta (it starts PENDING and NOT_VERIFIED) and store it.",
    success=True,
)
async def add_chatapp_phone_number(
    call: Call,
    *,
    cust_space_id: str,
    cc: str,
    phone_number: str,
    pre_validate_id: str | None,
    verified_name: str,
) -> Result:
    services = call.services
    space = await services.spaces.owned(call.principal, cust_space_id)
    await services.lifecycle.add(
        space, cc=cc, local_number=phone_number, verified_name=verified_name, preverified_id=pre_validate_id
    )
    return {}


@action(
    "GetChatappVerifyCode",
    access="get",  # as Alibaba documents it, though it has Meta send an SMS or a call
    params=(
        CUST_SPACE_ID,
        PHONE_NUMBER,
        Param(
            "Method",
            required=True,
            enum=("SMS", "VOICE"),
            enum_ignores_case=True,
            description="How Meta sends the code: SMS or VOICE (a call).",
            example="SMS",
        ),
        Param(
            "Locale",
            required=True,
            max_length=16,
            # Meta's request_code takes a language and region only (its OpenAPI pattern).
            pattern=r"[a-z]{2}_[A-Z]{2}",
            pattern_help="It must be a language and region such as en_US or zh_CN.",
            description="The language of the message or call, e.g. en_US or zh_CN.",
            example="zh_CN",
        ),
    ),
    summary="Have Meta send a 6-digit verification code to the number by SMS or voice call.",
    success=True,
)
async def get_chatapp_verify_code(
    call: Call, *, cust_space_id: str, phone_number: str, method: str, locale: str
) -> Result:
    services = call.services
    space = await services.spaces.owned(call.principal, cust_space_id)
    number = await services.spaces.number(space, phone_number)
    await services.lifecycle.request_code(space, number, method=method, locale=locale)
    return {}


@action(
    "ChatappVerifyAndRegister",
    access="update",
    params=(CUST_SPACE_ID, PHONE_NUMBER, VERIFY_CODE),
    summary="Check the code Meta sent, then register the number on the Cloud API (CONNECTED, VERIFIED).",
    success=True,
)
async def chatapp_verify_and_register(call: Call, *, cust_space_id: str, phone_number: str, verify_code: str) -> Result:
    services = call.services
    space = await services.spaces.owned(call.principal, cust_space_id)
    number = await services.spaces.number(space, phone_number)
    await services.lifecycle.verify_and_register(space, number, verify_code)
    return {}


@action(
    "ChatappPhoneNumberRegister",
    access="update",
    params=(CUST_SPACE_ID, PHONE_NUMBER),
    summary="Register the number on the Cloud API again (after a deregistration or an approved name change).",
    success=True,
)
async def chatapp_phone_number_register(call: Call, *, cust_space_id: str, phone_number: str) -> Result:
    services = call.services
    space = await services.spaces.owned(call.principal, cust_space_id)
    number = await services.spaces.number(space, phone_number)
    await services.lifecycle.register(space, number)
    return {}


@action(
    "ChatappPhoneNumberDeregister",
    access="update",
    params=(CUST_SPACE_ID, PHONE_NUMBER),
    summary="Take the number off the Cloud API (DISCONNECTED); it stays in the WABA and can be registered again.",
)
async def chatapp_phone_number_deregister(call: Call, *, cust_space_id: str, phone_number: str) -> Result:
    services = call.services
    space = await services.spaces.owned(call.principal, cust_space_id)
    number = await services.spaces.number(space, phone_number)
    await services.lifecycle.deregister(space, number)
    return {}


@action(
    "GetPreValidatePhoneId",
    access="get",
    params=(
        Param("PhoneNumber", required=True, max_length=32, description="A number bought pre-validated from Alibaba."),
        Param("VerifyCode", required=True, max_length=32, description="The code given with the purchase."),
    ),
    summary="Not carried out: it stands for Alibaba's own inventory of pre-validated numbers.",
)
async def get_pre_validate_phone_id(call: Call, *, phone_number: str, verify_code: str) -> Result:
    raise NotSupported(
        "GetPreValidatePhoneId looks up a number bought pre-validated from Alibaba's own number inventory, "
        "which opencams does not have. Add a number you own with AddChatappPhoneNumber, then verify it with "
        "GetChatappVerifyCode and ChatappVerifyAndRegister."
    )
