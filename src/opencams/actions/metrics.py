"""Send-volume metrics of a number, or of every number of a space, from Meta's WABA analytics."""

from __future__ import annotations

from ..rpc.registry import Param
from .declaration import CUST_SPACE_ID_OPTIONAL, ISV_CODE, Call, Result, action


@action(
    "GetChatappPhoneNumberMetric",
    access="get",
    rate="50/s",
    params=(
        ISV_CODE,
        CUST_SPACE_ID_OPTIONAL,
        Param(
            "Granularity",
            enum=("DAILY", "HALF_HOUR"),
            enum_ignores_case=True,
            description="DAILY (the default; at most 365 days) or HALF_HOUR (at most 31 days).",
            example="DAILY",
        ),
        Param(
            "Start",
            "millis",
            required=True,
            description="The start, in milliseconds since 1970-01-01 UTC; within the last 365 days.",
            example="1693107714687",
        ),
        Param(
            "End",
            "millis",
            required=True,
            description="The end, in milliseconds since 1970-01-01 UTC; later than Start.",
            example="1693407714687",
        ),
        Param(
            "PhoneNumber",
            max_length=32,
            description="One number (country code included); without it, every number of the space (at most 20).",
            example="8613800001234",
        ),
    ),
    summary="Messages sent and delivered per number and period, from Meta's WABA analytics.",
)
async def get_chatapp_phone_number_metric(
    call: Call,
    *,
    isv_code: str | None,
    cust_space_id: str | None,
    granularity: str | None,
    start: int,
    end: int,
    phone_number: str | None,
) -> Result:
    services = call.services
    granularity = granularity or "DAILY"
    # A range Meta would refuse is refused before any space or number is looked up.
    services.metrics.check_range(granularity, start, end)
    if phone_number is not None:
        space, number = await services.spaces.owned_number(call.principal, cust_space_id, phone_number)
        numbers = [number]
    else:
        space = await services.spaces.owned(call.principal, cust_space_id)
        numbers = services.metrics.numbers_to_count(await services.spaces.store.list_numbers(space.id))
    points = await services.metrics.sent_and_delivered(space, numbers, granularity, start, end)
    return {
        "Data": [
            {
                "PhoneNumber": p.phone_number,
                "Granularity": granularity,
                "Start": p.start * 1000,
                "End": p.end * 1000,
                "SentCount": p.sent,
                "DeliveredCount": p.delivered,
            }
            for p in points
        ]
    }
