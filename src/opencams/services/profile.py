"""A number's business profile at Meta: read it, change it, and carry a picture URL to Meta's upload API.

CAMS takes a picture URL where Meta wants an upload handle, so the server downloads the picture
(through the outbound policy: no internal addresses, checked after DNS and on every redirect;
size and time capped; only JPEG or PNG) and pushes it through Meta's resumable upload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ..db.spaces import Space
from ..domain.errors import InvalidValue, NotSupported
from ..domain.phone_numbers import StoredNumber
from ..graph.errors import GraphProtocolError
from ..outbound import OutboundPolicy, OutboundRefused
from .meta import MetaService

PROFILE_FIELDS = ("about", "address", "description", "email", "profile_picture_url", "websites", "vertical")
# Meta's profile pictures are at most 5 MB; a larger download is cut off, not read.
MAX_PICTURE_BYTES = 5 * 1024 * 1024
PICTURE_TIMEOUT = 10.0
MAX_REDIRECTS = 3
MAX_WEBSITE_LENGTH = 256
_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


@dataclass(frozen=True, slots=True)
class Profile:
    about: str | None
    address: str | None
    description: str | None
    email: str | None
    profile_picture_url: str | None
    websites: tuple[str, ...]
    vertical: str | None


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What a caller asked to change; None leaves a field as it is."""

    about: str | None = None
    address: str | None = None
    description: str | None = None
    email: str | None = None
    vertical: str | None = None
    websites: list[str] | None = None
    profile_picture_url: str | None = None


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) and value else None


class ProfileService:
    """Business profiles of the caller's numbers."""

    def __init__(self, meta: MetaService, outbound: OutboundPolicy) -> None:
        self.meta = meta
        self.outbound = outbound

    async def read(self, space: Space, number: StoredNumber) -> Profile:
        path = f"{number.meta.id}/whatsapp_business_profile"
        fields = {"fields": ",".join(PROFILE_FIELDS)}
        answer = await self.meta.in_space(space, lambda token, r: self.meta.graph.get(path, token, fields, r))
        data = answer.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise GraphProtocolError("Meta's business profile answer has no data")
        item = data[0]
        # Meta's OpenAPI wraps the fields in `business_profile`; its documentation does not: take both.
        if isinstance(item.get("business_profile"), dict):
            item = item["business_profile"]
        websites = item.get("websites")
        return Profile(
            _text(item, "about"),
            _text(item, "address"),
            _text(item, "description"),
            _text(item, "email"),
            _text(item, "profile_picture_url"),
            tuple(w for w in websites if isinstance(w, str)) if isinstance(websites, list) else (),
            _text(item, "vertical"),
        )

    async def change(self, space: Space, number: StoredNumber, change: ProfileChange) -> None:
        """Send the change to Meta; the picture first goes through the download and the upload."""
        for index, site in enumerate(change.websites or []):
            if not site.lower().startswith(("http://", "https://")):
                raise InvalidValue("Websites", f"Website {index + 1} must start with http:// or https://.")
            if len(site) > MAX_WEBSITE_LENGTH:
                raise InvalidValue("Websites", f"Website {index + 1} is longer than {MAX_WEBSITE_LENGTH} characters.")
        body: dict[str, Any] = {"messaging_product": "whatsapp"}
        for key in ("about", "address", "description", "email", "vertical", "websites"):
            value = getattr(change, key)
            if value is not None:
                body[key] = value
        if change.profile_picture_url is not None:
            picture, content_type = await self.download_picture(change.profile_picture_url)
            body["profile_picture_handle"] = await self._upload(space, picture, content_type)
        path = f"{number.meta.id}/whatsapp_business_profile"
        answer = await self.meta.in_space(
            space, lambda token, r: self.meta.graph.post(path, token, json_body=body, report=r)
        )
        if answer.get("success") is not True:
            raise GraphProtocolError("Meta did not confirm the profile change")

    async def download_picture(self, url: str) -> tuple[bytes, str]:
        """The picture's bytes and type; InvalidValue naming ProfilePictureUrl for anything refused.

        Nothing is fetched from an address the outbound policy refuses, and a body larger than
        the cap is abandoned as soon as the cap is passed (or its Content-Length says so).
        """
        try:
            self.outbound.check_url(url)
        except OutboundRefused as exc:
            raise InvalidValue("ProfilePictureUrl", f"The URL is refused: {exc}.") from None
        try:
            async with (
                self.outbound.client(
                    timeout=PICTURE_TIMEOUT, follow_redirects=True, max_redirects=MAX_REDIRECTS
                ) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise InvalidValue("ProfilePictureUrl", f"Downloading it answered HTTP {response.status_code}.")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_PICTURE_BYTES:
                    raise InvalidValue("ProfilePictureUrl", f"The picture is larger than {MAX_PICTURE_BYTES} bytes.")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_PICTURE_BYTES:
                        raise InvalidValue(
                            "ProfilePictureUrl", f"The picture is larger than {MAX_PICTURE_BYTES} bytes."
                        )
        except httpx.HTTPError as exc:
            # The policy's refusals arrive as connection errors whose text says why.
            reason = str(exc) if "outbound policy" in str(exc) else type(exc).__name__
            raise InvalidValue("ProfilePictureUrl", f"It could not be downloaded: {reason}.") from None
        for signature, content_type in _SIGNATURES.items():
            if body.startswith(signature):
                return bytes(body), content_type
        raise InvalidValue("ProfilePictureUrl", "It is not a JPEG or PNG image.")

    async def _upload(self, space: Space, picture: bytes, content_type: str) -> str:
        """Meta's resumable upload: open a session for the app, send the bytes, get the handle."""
        app_id = self.meta.app_id
        if not app_id:
            raise NotSupported(
                "Changing the profile picture needs the deployment's Meta app id (OPENCAMS_META_APP_ID)."
            )

        async def upload(token: str, report: Any) -> str:
            params = {"file_name": "profile", "file_length": str(len(picture)), "file_type": content_type}
            session = await self.meta.graph.post(f"{app_id}/uploads", token, params=params, report=report)
            session_id = session.get("id")
            if not isinstance(session_id, str) or not session_id.startswith("upload:"):
                raise GraphProtocolError("Meta's upload API answered no session id")
            # The upload endpoint takes the token with the OAuth scheme (Meta's resumable upload guide).
            headers = {"Authorization": f"OAuth {token}", "file_offset": "0"}
            done = await self.meta.graph.post(session_id, token, content=picture, headers=headers, report=report)
            handle = done.get("h")
            if not isinstance(handle, str) or not handle:
                raise GraphProtocolError("Meta's upload API answered no handle")
            return handle

        return await self.meta.in_space(space, upload)
