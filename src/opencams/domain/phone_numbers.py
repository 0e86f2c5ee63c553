"""Phone numbers: reading Meta's node, and mapping a stored number to the CAMS wire shape (cams.md §3.3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Graph fields the sync asks for (meta-graph.md §1); the portfolio limit backs MessagingLimitTier.
GRAPH_FIELDS = (
    "id",
    "display_phone_number",
    "verified_name",
    "status",
    "quality_rating",
    "code_verification_status",
    "name_status",
    "new_name_status",
    "messaging_limit_tier",
    "whatsapp_business_manager_messaging_limit",
    "is_official_business_account",
    "platform_type",
    "throughput",
    "account_mode",
)

NAME_STATUS = {"APPROVED": "Approval", "PENDING_REVIEW": "Pending_Review", "DECLINED": "Rejected"}
QUALITY_RATING = {"NA": "UNKNOWN"}
_NON_DIGITS = re.compile(r"\D")


class InvalidNode(ValueError):
    """Meta answered a phone-number node we cannot use (no id, wrong types)."""


# The longest value stored per field (the columns' sizes); Meta's real values are far shorter.
_MAX_LENGTH = {"id": 32, "display_phone_number": 64, "verified_name": 1000}
_ENUM_LENGTH = 32
_ID = re.compile(r"[0-9]{1,32}")
# Control characters and lone surrogates cannot be stored in PostgreSQL text or written as XML.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _opt_str(node: Mapping[str, Any], key: str) -> str | None:
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidNode(f"field {key} is {type(value).__name__}, not a string")
    if len(value) > _MAX_LENGTH.get(key, _ENUM_LENGTH):
        raise InvalidNode(f"field {key} is longer than {_MAX_LENGTH.get(key, _ENUM_LENGTH)} characters")
    if _UNPRINTABLE.search(value):
        raise InvalidNode(f"field {key} holds a control character")
    return value


@dataclass(frozen=True, slots=True)
class MetaNumber:
    """The fields of Meta's phone-number node that CAMS uses, as Meta spelled them."""

    id: str
    display_phone_number: str | None
    verified_name: str | None
    status: str | None
    quality_rating: str | None
    code_verification_status: str | None
    name_status: str | None
    new_name_status: str | None
    messaging_limit_tier: str | None
    portfolio_messaging_limit: str | None
    is_official: bool | None

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> MetaNumber:
        """Read a node; InvalidNode if it lacks an id or a field has the wrong type."""
        if not isinstance(node, Mapping):
            raise InvalidNode("a phone number is not a JSON object")
        number_id = node.get("id")
        if not isinstance(number_id, str) or not number_id:
            raise InvalidNode("a phone number has no id")
        if not _ID.fullmatch(number_id):
            raise InvalidNode("a phone number's id is not Meta's numeric id")
        official = node.get("is_official_business_account")
        if official is not None and not isinstance(official, bool):
            raise InvalidNode("field is_official_business_account is not a boolean")
        return cls(
            id=number_id,
            display_phone_number=_opt_str(node, "display_phone_number"),
            verified_name=_opt_str(node, "verified_name"),
            status=_opt_str(node, "status"),
            quality_rating=_opt_str(node, "quality_rating"),
            code_verification_status=_opt_str(node, "code_verification_status"),
            name_status=_opt_str(node, "name_status"),
            new_name_status=_opt_str(node, "new_name_status"),
            messaging_limit_tier=_opt_str(node, "messaging_limit_tier"),
            portfolio_messaging_limit=_opt_str(node, "whatsapp_business_manager_messaging_limit"),
            is_official=official,
        )


@dataclass(frozen=True, slots=True)
class StoredNumber:
    """A number as stored: Meta's state plus the CAMS-side delivery settings."""

    meta: MetaNumber
    status_callback_url: str | None
    up_callback_url: str | None
    # The number's own queue delivery choice; None follows the account's.
    queue_flag: bool | None = None

    @property
    def digits(self) -> str:
        """The number as CAMS writes it (digits of Meta's display number), or ''."""
        return digits_only(self.meta.display_phone_number or "")


@dataclass(frozen=True, slots=True)
class Queues:
    """The account's queue names when queue delivery is enabled."""

    status: str
    inbound: str

    @classmethod
    def for_account(cls, account_id: str) -> Queues:
        return cls(f"Alicom-Queue-{account_id}-ChatAppStatus", f"Alicom-Queue-{account_id}-ChatAppInbound")


def digits_only(display: str) -> str:
    """`+86 138-0000-1234` -> `8613800001234`."""
    return _NON_DIGITS.sub("", display)


def to_cams(number: StoredNumber, queues: Queues, *, account_queues: bool) -> dict[str, str]:
    """The CAMS PhoneNumbers[] item; fields without a value are left out, never null.

    StatusQueue/UpQueue (the account's `queues`) appear when queue delivery is on for the number:
    its own QueueFlag (UpdatePhoneWebhook) if it has one, else the account's setting.
    """
    m = number.meta
    queues_on = number.queue_flag if number.queue_flag is not None else account_queues
    name_status = NAME_STATUS.get(m.name_status, m.name_status) if m.name_status else None
    new_name_status = NAME_STATUS.get(m.new_name_status, m.new_name_status) if m.new_name_status else None
    quality = QUALITY_RATING.get(m.quality_rating, m.quality_rating) if m.quality_rating else None
    fields: dict[str, str | None] = {
        "PhoneNumber": digits_only(m.display_phone_number) if m.display_phone_number else None,
        "VerifiedName": m.verified_name,
        "Status": m.status,
        "QualityRating": quality,
        "CodeVerificationStatus": m.code_verification_status,
        "NameStatus": name_status,
        "NewNameStatus": new_name_status,
        "MessagingLimitTier": m.messaging_limit_tier or m.portfolio_messaging_limit,
        "IsOfficial": None if m.is_official is None else ("true" if m.is_official else "false"),
        "StatusQueue": queues.status if queues_on else None,
        "UpQueue": queues.inbound if queues_on else None,
        "StatusCallbackUrl": number.status_callback_url,
        "UpCallbackUrl": number.up_callback_url,
    }
    return {k: v for k, v in fields.items() if v}
