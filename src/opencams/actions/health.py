"""Can it send? Meta's health status of a WABA, a number or a template, and a number's verification status."""

from __future__ import annotations

from typing import Any

from ..domain.errors import InvalidValue
from ..rpc.registry import Param
from ..services.waba import Health, HealthEntity
from .declaration import CUST_SPACE_ID, PHONE_NUMBER, Call, Result, action


def _entity(entity: HealthEntity, *, phone_number: str | None, template: tuple[str, str] | None) -> dict[str, Any]:
    item: dict[str, Any] = {"EntityType": entity.entity_type, "CanSendMessage": entity.can_send_message}
    # CAMS names an entity by what the caller knows it as, not by Meta's node id.
    if entity.entity_type == "WABA":
        item["WabaId"] = entity.id
    elif entity.entity_type == "BUSINESS":
        item["BusinessId"] = entity.id
    elif entity.entity_type == "PHONE_NUMBER":
        item["PhoneNumber"] = phone_number
    elif entity.entity_type == "MESSAGE_TEMPLATE" and template is not None:
        item["TemplateCode"], item["Language"] = template
    if entity.errors:
        item["Errors"] = [
            {
                k: v
                for k, v in (
                    ("ErrorCode", e.code),
                    ("ErrorDescription", e.description),
                    ("PossibleSolution", e.possible_solution),
                )
                if v is not None
            }
            for e in entity.errors
        ]
    return {k: v for k, v in item.items() if v is not None}


def _health(health: Health, *, phone_number: str | None = None, template: tuple[str, str] | None = None) -> Result:
    entities = [_entity(e, phone_number=phone_number, template=template) for e in health.entities]
    data: dict[str, Any] = {"CanSendMessage": health.can_send_message, "Entities": entities}
    return {"Data": {k: v for k, v in data.items() if v is not None}}


@action(
    "GetWhatsappHealthStatus",
    access="get",
    rate="5/s",
    params=(
        CUST_SPACE_ID,
        Param(
            "NodeType",
            required=True,
            enum=("template", "phone", "waba"),
            enum_ignores_case=True,
            description="What to check: the space's WABA, one of its numbers, or one of its templates.",
        ),
        Param("PhoneNumber", max_length=32, description="The number, when NodeType is phone."),
        Param("WabaId", max_length=32, description="The WABA, when NodeType is waba (default: the space's)."),
        Param("TemplateCode", max_length=512, description="The template's name, when NodeType is template."),
        Param("Language", max_length=16, description="The template's language, when NodeType is template."),
    ),
    summary="Whether a WABA, a number or a template can send, and why not: Meta's health status, read live.",
    success=True,
)
async def get_whatsapp_health_status(
    call: Call,
    *,
    cust_space_id: str,
    node_type: str,
    phone_number: str | None,
    waba_id: str | None,
    template_code: str | None,
    language: str | None,
) -> Result:
    services = call.services
    space = await services.spaces.owned(call.principal, cust_space_id)
    if node_type == "phone":
        if not phone_number:
            raise InvalidValue("PhoneNumber", "It is mandatory when NodeType is phone.")
        number = await services.spaces.number(space, phone_number)
        return _health(await services.waba.health(space, number.meta.id), phone_number=number.digits)
    if node_type == "waba":
        if waba_id is not None and waba_id != space.waba_id:
            raise InvalidValue("WabaId", "It is not the WhatsApp Business Account bound to this customer space.")
        return _health(await services.waba.health(space, space.waba_id))
    if not template_code or not language:
        raise InvalidValue(
            "TemplateCode" if not template_code else "Language", "It is mandatory when NodeType is template."
        )
    template_id = await services.waba.template_id(space, template_code, language)
    return _health(await services.waba.health(space, template_id), template=(template_code, language))


@action(
    "GetPhoneNumberVerificationStatus",
    access="get",
    params=(CUST_SPACE_ID, PHONE_NUMBER),
    summary="Whether a number's ownership was verified with a code (Meta's code_verification_status), read live.",
)
async def get_phone_number_verification_status(call: Call, *, cust_space_id: str, phone_number: str) -> Result:
    services = call.services
    space = await services.spaces.owned(call.principal, cust_space_id)
    number = await services.spaces.number(space, phone_number)
    node = await services.waba.verification(space, number)
    status = node.get("code_verification_status")
    data = {
        "PhoneNumber": number.digits,
        "Id": str(node.get("id") or number.meta.id),
        "CodeVerificationStatus": status if isinstance(status, str) else None,
    }
    return {"Data": {k: v for k, v in data.items() if v is not None}}
