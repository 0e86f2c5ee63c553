"""A number's life at Meta: adding it, its verification code, its two-step PIN and registration, its encryption key.

Every step is one or a few Graph calls through `MetaService.in_space` (the space's token, Meta's
budget per WABA). After a step the number's node is read again with the sync's fields and stored
(`SpaceStore.store_number`), so QueryChatappPhoneNumbers shows Meta's state at once and a later
sync agrees with it.

The two-step PIN: CAMS takes none, Meta's register needs one. opencams makes a random 6-digit PIN
per number (`secrets`), keeps it sealed (`db/pins.py`), sets it at Meta before registering when
Meta reports no PIN for the number, and never logs or answers it. A PIN set outside opencams is
never replaced: that is what two-step verification protects. Registering such a number gets
Meta's 133005, whose CAMS message says how to turn the other PIN off.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ..db.spaces import Space
from ..domain.errors import DomainError, InvalidValue
from ..domain.phone_numbers import GRAPH_FIELDS, InvalidNode, MetaNumber, StoredNumber
from ..graph.client import FetchReport
from ..graph.errors import GraphApiError, GraphError, GraphProtocolError
from ..redact import redact
from .meta import MetaService

log = logging.getLogger("opencams.lifecycle")

PIN_DIGITS = 6
KEY_BITS = 2048
# E.164: at most 15 digits with the country code.
MAX_E164_DIGITS = 15
_META_ID = re.compile(r"[0-9]{1,32}")


def new_pin() -> str:
    """A random 6-digit two-step verification PIN (leading zeros kept)."""
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


class PinRepository(Protocol):
    """The numbers' PINs (db/pins.py)."""

    async def pin(self, phone_number_id: str) -> str | None: ...

    async def keep(self, phone_number_id: str, candidate: str) -> str: ...


class NumberRepository(Protocol):
    """Storing one number as Meta has it (db/spaces.py)."""

    async def store_number(
        self, space_id: str, meta: MetaNumber, node: dict[str, Any], read_started_at: float
    ) -> StoredNumber: ...


@dataclass(frozen=True, slots=True)
class EncryptionKey:
    """A number's business public key at Meta (Flows), and whether its signature is valid."""

    public_key: str | None
    signature_status: str | None


def check_public_key(pem: str) -> None:
    """InvalidValue naming EncryptionPublicKey unless `pem` is a 2048-bit RSA public key in PEM."""
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidValue(
            "EncryptionPublicKey",
            "It must be a 2048-bit RSA public key in PEM format (-----BEGIN PUBLIC KEY----- ... "
            "-----END PUBLIC KEY-----).",
        ) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidValue("EncryptionPublicKey", "It is not an RSA key; Meta takes only a 2048-bit RSA public key.")
    if key.key_size != KEY_BITS:
        raise InvalidValue(
            "EncryptionPublicKey", f"It is a {key.key_size}-bit RSA key; Meta takes only a 2048-bit RSA public key."
        )


def _masked(exc: GraphApiError, hidden: tuple[str, ...]) -> GraphApiError:
    """The same error with `hidden` (a PIN, a code) masked in Meta's texts, should Meta echo them."""
    return GraphApiError(
        http_status=exc.http_status,
        code=exc.code,
        subcode=exc.subcode,
        type=redact(exc.type, hidden) if exc.type else exc.type,
        message=redact(exc.message, hidden),
        fbtrace_id=exc.fbtrace_id,
        is_transient=exc.is_transient,
    )


class LifecycleService:
    """Add, verify, register and deregister the caller's numbers at Meta; their encryption key."""

    def __init__(self, meta: MetaService, numbers: NumberRepository, pins: PinRepository) -> None:
        self.meta = meta
        self.numbers = numbers
        self.pins = pins

    # --- Graph calls --------------------------------------------------------------------------

    async def _post(
        self,
        path: str,
        token: str,
        data: Mapping[str, str],
        report: FetchReport,
        *,
        hidden: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """POST a form (never a query: URLs end up in logs and call records); Meta's texts masked."""
        try:
            return await self.meta.graph.post(path, token, data=data, report=report)
        except GraphApiError as exc:
            if not hidden:
                raise
            raise _masked(exc, hidden) from None

    async def _confirmed(
        self, path: str, token: str, data: Mapping[str, str], report: FetchReport, *, hidden: tuple[str, ...] = ()
    ) -> None:
        """A POST Meta answers with {"success": true}; GraphProtocolError for anything else."""
        answer = await self._post(path, token, data, report, hidden=hidden)
        if answer.get("success") is not True:
            raise GraphProtocolError(f"Meta did not confirm the request to /{path}")

    async def refresh(self, space: Space, phone_number_id: str) -> StoredNumber | None:
        """Read the number from Meta (the sync's fields) and store it; None if that failed.

        A failure here comes after the step itself succeeded at Meta: it is logged, not answered
        (a caller retrying a step that worked would spend Meta's attempts), and the next sync
        stores the number.
        """
        started = self.meta.clock()
        fields = {"fields": ",".join(GRAPH_FIELDS)}
        try:
            node = await self.meta.in_space(
                space, lambda token, r: self.meta.graph.get(phone_number_id, token, fields, r)
            )
            try:
                meta = MetaNumber.from_node(node)
            except InvalidNode as exc:
                raise GraphProtocolError(f"Meta sent an unusable phone number: {exc}") from None
            return await self.numbers.store_number(space.id, meta, node, started)
        except (GraphError, DomainError, LookupError) as exc:
            api = exc if isinstance(exc, GraphApiError) else None
            record = {
                "event": "number_refresh_failed",
                "CustSpaceId": space.id,
                "WabaId": space.waba_id,
                "PhoneNumberId": phone_number_id,
                "error": type(exc).__name__,
                "meta_code": api.code if api else None,
                "fbtrace_id": api.fbtrace_id if api else None,
            }
            log.warning(json.dumps(record, separators=(",", ":")))
            return None

    # --- the steps ----------------------------------------------------------------------------

    async def add(
        self, space: Space, *, cc: str, local_number: str, verified_name: str, preverified_id: str | None
    ) -> StoredNumber | None:
        """Add a number to the space's WABA (PENDING, NOT_VERIFIED at Meta) and store it."""
        cc = cc.removeprefix("+")
        if len(cc) + len(local_number) > MAX_E164_DIGITS:
            raise InvalidValue("PhoneNumber", f"With its country code it has more than {MAX_E164_DIGITS} digits.")
        form = {"cc": cc, "phone_number": local_number, "verified_name": verified_name}
        if preverified_id is not None:
            form["preverified_id"] = preverified_id

        async def add_number(token: str, report: FetchReport) -> str:
            answer = await self._post(f"{space.waba_id}/phone_numbers", token, form, report)
            number_id = answer.get("id")
            if not isinstance(number_id, str) or not _META_ID.fullmatch(number_id):
                raise GraphProtocolError("Meta answered no phone-number id for the added number")
            return number_id

        number_id = await self.meta.in_space(space, add_number)
        return await self.refresh(space, number_id)

    async def request_code(self, space: Space, number: StoredNumber, *, method: str, locale: str) -> None:
        """Have Meta send a verification code to the number by SMS or voice call."""
        form = {"code_method": method, "language": locale}
        await self.meta.in_space(
            space, lambda token, r: self._confirmed(f"{number.meta.id}/request_code", token, form, r)
        )
        await self.refresh(space, number.meta.id)

    async def verify_and_register(self, space: Space, number: StoredNumber, code: str) -> None:
        """Check the code at Meta, then register the number with its PIN.

        If Meta accepted the code and then refused the registration, the number is VERIFIED at
        Meta all the same: it is stored so before the refusal is answered.
        """
        verified = False

        async def verify_then_register(token: str, report: FetchReport) -> None:
            nonlocal verified
            form = {"code": code}
            await self._confirmed(f"{number.meta.id}/verify_code", token, form, report, hidden=(code,))
            verified = True
            await self._register(number.meta.id, token, report)

        try:
            await self.meta.in_space(space, verify_then_register)
        except (GraphError, DomainError):
            if verified:
                await self.refresh(space, number.meta.id)
            raise
        await self.refresh(space, number.meta.id)

    async def register(self, space: Space, number: StoredNumber) -> None:
        """Register the number on the Cloud API with its PIN (set at Meta first if Meta has none)."""
        await self.meta.in_space(space, lambda token, r: self._register(number.meta.id, token, r))
        await self.refresh(space, number.meta.id)

    async def _register(self, number_id: str, token: str, report: FetchReport) -> None:
        """Meta's register with the number's PIN.

        Meta reports whether the number has a two-step PIN (`is_pin_enabled`). Without one,
        opencams's PIN (made and kept sealed before Meta hears of it, so a lost answer cannot
        leave Meta with a PIN nobody knows) is set, then used. With one opencams keeps, that one
        is used. With one opencams never set, it is not replaced: a fresh PIN is offered and Meta
        judges it (133005 unless the other PIN was turned off meanwhile); nothing is kept unless
        Meta accepts it.
        """
        node = await self.meta.graph.get(number_id, token, {"fields": "id,is_pin_enabled"}, report)
        pin_at_meta = node.get("is_pin_enabled") is True
        kept = await self.pins.pin(number_id)
        if pin_at_meta and kept is None:
            pin = new_pin()
            form = {"messaging_product": "whatsapp", "pin": pin}
            await self._confirmed(f"{number_id}/register", token, form, report, hidden=(pin,))
            # Meta took it, so the number had no PIN by now and this one is its PIN.
            await self.pins.keep(number_id, pin)
            return
        pin = kept if kept is not None else await self.pins.keep(number_id, new_pin())
        if not pin_at_meta:
            await self._confirmed(number_id, token, {"pin": pin}, report, hidden=(pin,))
        form = {"messaging_product": "whatsapp", "pin": pin}
        await self._confirmed(f"{number_id}/register", token, form, report, hidden=(pin,))

    async def deregister(self, space: Space, number: StoredNumber) -> None:
        """Take the number off the Cloud API (DISCONNECTED); its PIN is kept, as Meta keeps it."""
        await self.meta.in_space(space, lambda token, r: self._confirmed(f"{number.meta.id}/deregister", token, {}, r))
        await self.refresh(space, number.meta.id)

    # --- the encryption key -------------------------------------------------------------------

    async def encryption_key(self, space: Space, number: StoredNumber) -> EncryptionKey:
        """The number's business public key at Meta; both None when none is set."""
        path = f"{number.meta.id}/whatsapp_business_encryption"
        answer = await self.meta.in_space(space, lambda token, r: self.meta.graph.get(path, token, None, r))
        data = answer.get("data")
        if not isinstance(data, list) or (data and not isinstance(data[0], dict)):
            raise GraphProtocolError("Meta's encryption answer has no data list")
        if not data:
            return EncryptionKey(None, None)
        item = data[0]
        key, status = item.get("business_public_key"), item.get("business_public_key_signature_status")
        # Meta's own mismatch example answers a key of " ".
        return EncryptionKey(
            key if isinstance(key, str) and key.strip() else None,
            status if isinstance(status, str) and status else None,
        )

    async def set_encryption_key(self, space: Space, number: StoredNumber, pem: str) -> None:
        """Check the key here (Meta's own refusal names no parameter), then set it, byte for byte."""
        check_public_key(pem)
        path = f"{number.meta.id}/whatsapp_business_encryption"
        form = {"business_public_key": pem}
        await self.meta.in_space(space, lambda token, r: self._confirmed(path, token, form, r))
