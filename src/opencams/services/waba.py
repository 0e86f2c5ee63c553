"""The WABA behind a space, read live from Meta: binding, WABA and business details, health, verification.

Meta's answers are returned as parsed here (`WabaDetails`, `BusinessInfo`, `Health`): a field
Meta leaves out stays None, and the action layer decides how CAMS writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..db.spaces import Space, SpaceStore
from ..domain.errors import InvalidValue, WabaOfAnotherAccount
from ..domain.phone_numbers import StoredNumber
from ..graph.errors import GraphProtocolError
from ..principal import Principal
from .meta import MetaService

WABA_FIELDS = (
    "id",
    "name",
    "currency",
    "account_review_status",
    "message_template_namespace",
    "owner_business_info",
    "primary_business_location",
    "auth_international_rate_eligibility",
    "marketing_messages_lite_api_status",
)


def _text(node: dict[str, Any], key: str) -> str | None:
    value = node.get(key)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class WabaDetails:
    """Meta's WABA node, the fields CAMS shows."""

    id: str
    name: str | None
    currency: str | None
    account_review_status: str | None
    message_template_namespace: str | None
    primary_business_location: str | None
    auth_international_rate_eligibility: dict[str, Any] | None
    marketing_messages_lite_api_status: str | None
    business_id: str | None
    business_name: str | None

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> WabaDetails:
        owner = node.get("owner_business_info")
        owner = owner if isinstance(owner, dict) else {}
        rate = node.get("auth_international_rate_eligibility")
        return cls(
            id=str(node.get("id") or ""),
            name=_text(node, "name"),
            currency=_text(node, "currency"),
            account_review_status=_text(node, "account_review_status"),
            message_template_namespace=_text(node, "message_template_namespace"),
            primary_business_location=_text(node, "primary_business_location"),
            auth_international_rate_eligibility=rate if isinstance(rate, dict) else None,
            marketing_messages_lite_api_status=_text(node, "marketing_messages_lite_api_status"),
            business_id=_text(owner, "id"),
            business_name=_text(owner, "name"),
        )


@dataclass(frozen=True, slots=True)
class BusinessInfo:
    """Meta's business portfolio node."""

    id: str
    name: str | None
    verification_status: str | None
    vertical: str | None


@dataclass(frozen=True, slots=True)
class HealthError:
    code: str
    description: str | None
    possible_solution: str | None


@dataclass(frozen=True, slots=True)
class HealthEntity:
    entity_type: str
    id: str | None
    can_send_message: str | None
    additional_info: tuple[str, ...] = ()
    errors: tuple[HealthError, ...] = ()


@dataclass(frozen=True, slots=True)
class Health:
    """Meta's `health_status`: the overall verdict and one entry per entity."""

    can_send_message: str | None
    entities: tuple[HealthEntity, ...] = field(default_factory=tuple)

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> Health:
        status = node.get("health_status")
        if not isinstance(status, dict):
            raise GraphProtocolError("Meta's answer has no health_status object")
        entities = []
        for raw in status.get("entities") or []:
            if not isinstance(raw, dict):
                continue
            errors = tuple(
                HealthError(str(e.get("error_code")), _text(e, "error_description"), _text(e, "possible_solution"))
                for e in raw.get("errors") or []
                if isinstance(e, dict) and e.get("error_code") is not None
            )
            info = tuple(str(i) for i in raw.get("additional_info") or [] if isinstance(i, str))
            entities.append(
                HealthEntity(
                    str(raw.get("entity_type") or ""), _text(raw, "id"), _text(raw, "can_send_message"), info, errors
                )
            )
        return cls(_text(status, "can_send_message"), tuple(entities))


class WabaService:
    """WABA-level reads and the binding of a WABA to a space."""

    def __init__(self, meta: MetaService, spaces: SpaceStore) -> None:
        self.meta = meta
        self.spaces = spaces

    async def bind(self, principal: Principal, waba_id: str) -> tuple[Space, bool]:
        """The caller's space for the WABA, after checking it at Meta and subscribing the app to it.

        A WABA this account already bound answers the same space (and subscribes again: Meta
        keeps one subscription). One bound by another account is refused before Meta is called.
        """
        if any(s.account_id != principal.account_id for s in await self.spaces.spaces_of_waba(waba_id)):
            raise WabaOfAnotherAccount("The WhatsApp Business Account is bound to another account.")
        token = self.meta.token(None)

        async def check_and_subscribe(report: Any) -> None:
            await self.meta.graph.get(waba_id, token, {"fields": "id,name"}, report)
            answer = await self.meta.graph.post(f"{waba_id}/subscribed_apps", token, report=report)
            if answer.get("success") is not True:
                raise GraphProtocolError("Meta did not confirm the app's subscription to the WABA")

        await self.meta.call(waba_id, None, check_and_subscribe)
        return await self.spaces.bind_waba(principal.account_id, waba_id)

    async def details(self, space: Space) -> WabaDetails:
        node = await self.meta.in_space(
            space, lambda token, r: self.meta.graph.get(space.waba_id, token, {"fields": ",".join(WABA_FIELDS)}, r)
        )
        return WabaDetails.from_node(node)

    async def business(self, space: Space, waba_id: str) -> BusinessInfo:
        """The business portfolio that owns the space's WABA (`waba_id` must be that WABA)."""
        if waba_id != space.waba_id:
            raise InvalidValue("WabaId", "It is not the WhatsApp Business Account bound to this customer space.")

        async def read(token: str, report: Any) -> dict[str, Any]:
            waba = await self.meta.graph.get(space.waba_id, token, {"fields": "owner_business_info"}, report)
            owner = waba.get("owner_business_info")
            business_id = owner.get("id") if isinstance(owner, dict) else None
            if not isinstance(business_id, str) or not business_id.isdigit():
                raise GraphProtocolError("Meta's WABA has no owner business")
            fields = {"fields": "id,name,verification_status,vertical"}
            return await self.meta.graph.get(business_id, token, fields, report)

        node = await self.meta.in_space(space, read)
        return BusinessInfo(
            str(node.get("id") or ""), _text(node, "name"), _text(node, "verification_status"), _text(node, "vertical")
        )

    async def health(self, space: Space, node_id: str) -> Health:
        """Meta's health_status of a node (the space's WABA, one of its numbers, or a template)."""
        node = await self.meta.in_space(
            space, lambda token, r: self.meta.graph.get(node_id, token, {"fields": "health_status"}, r)
        )
        return Health.from_node(node)

    async def template_id(self, space: Space, name: str, language: str) -> str:
        """The Meta id of the WABA's template with this name and language."""

        async def find(token: str, report: Any) -> dict[str, Any]:
            params = {"name": name, "language": language, "fields": "id,name,language"}
            return await self.meta.graph.get(f"{space.waba_id}/message_templates", token, params, report)

        answer = await self.meta.in_space(space, find)
        for template in answer.get("data") or []:
            if isinstance(template, dict) and template.get("name") == name and template.get("language") == language:
                return str(template.get("id"))
        raise InvalidValue("TemplateCode", f"The WABA has no template {name} in language {language}.")

    async def verification(self, space: Space, number: StoredNumber) -> dict[str, Any]:
        """The number's node as Meta has it now: id, display number, code verification status."""
        fields = {"fields": "id,display_phone_number,code_verification_status"}
        return await self.meta.in_space(space, lambda token, r: self.meta.graph.get(number.meta.id, token, fields, r))
