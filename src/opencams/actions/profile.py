"""A number's WhatsApp business profile: read it from Meta, change it (picture included) at Meta."""

from __future__ import annotations

from ..rpc.registry import Param
from ..services.profile import ProfileChange
from .declaration import CUST_SPACE_ID, PHONE_NUMBER, Call, Result, action

# Meta's industry codes (its WhatsAppBusinessVertical enum; CAMS documents the first seventeen).
VERTICALS = (
    "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN", "FINANCE", "GROCERY", "GOVT",
    "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL", "TRAVEL", "RESTAURANT", "ALCOHOL",
    "ONLINE_GAMBLING", "PHYSICAL_GAMBLING", "OTC_DRUGS",
)  # fmt: skip


@action(
    "QueryPhoneBusinessProfile",
    access="get",
    params=(CUST_SPACE_ID, PHONE_NUMBER),
    summary="A number's business profile (about, address, description, email, picture, websites, industry).",
    success=True,
)
async def query_phone_business_profile(call: Call, *, cust_space_id: str, phone_number: str) -> Result:
    services = call.services
    space, number = await services.spaces.owned_number(call.principal, cust_space_id, phone_number)
    profile = await services.profile.read(space, number)
    data = {
        "About": profile.about,
        "Address": profile.address,
        "Description": profile.description,
        "Email": profile.email,
        "ProfilePictureUrl": profile.profile_picture_url,
        "Websites": list(profile.websites),
        "Vertical": profile.vertical,
    }
    return {"Data": {k: v for k, v in data.items() if v is not None}}


@action(
    "ModifyPhoneBusinessProfile",
    access="update",
    params=(
        CUST_SPACE_ID,
        PHONE_NUMBER,
        Param("Address", max_length=256, description="The business's address (at most 256 characters)."),
        Param("Description", max_length=512, description="What the business does (at most 512 characters)."),
        Param("Vertical", enum=VERTICALS, description="The industry, one of Meta's codes (e.g. RETAIL)."),
        Param("Email", max_length=128, description="A contact email (at most 128 characters)."),
        Param(
            "ProfilePictureUrl",
            max_length=1024,
            description="An http(s) URL of a JPEG or PNG of at most 5 MB, downloaded by the server.",
        ),
        Param(
            "Websites",
            "json_list",
            max_length=1024,
            max_items=2,
            description='At most 2 http(s) URLs, as a JSON array in one string: ["https://example.com"].',
            example='["https://example.com"]',
        ),
        Param("About", max_length=139, description="The profile's About text (1 to 139 characters)."),
    ),
    summary="Change a number's business profile at Meta; a picture URL is downloaded and uploaded to Meta.",
    success=True,
)
async def modify_phone_business_profile(
    call: Call,
    *,
    cust_space_id: str,
    phone_number: str,
    address: str | None,
    description: str | None,
    vertical: str | None,
    email: str | None,
    profile_picture_url: str | None,
    websites: list[str] | None,
    about: str | None,
) -> Result:
    services = call.services
    space, number = await services.spaces.owned_number(call.principal, cust_space_id, phone_number)
    change = ProfileChange(
        about=about,
        address=address,
        description=description,
        email=email,
        vertical=vertical,
        websites=websites,
        profile_picture_url=profile_picture_url,
    )
    await services.profile.change(space, number, change)
    return {}
