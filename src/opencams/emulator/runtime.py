"""Run-time records that never enter the state document: verification codes, attempt windows, uploads.

They model what Meta keeps server-side and never shows through Graph. Tests read them only
through the control API; `POST /_emulator/reset` clears them, `PUT /_emulator/state` keeps them.
All mutation happens under the Store's lock.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .clock import iso

_SIG_ALPHABET = string.ascii_letters + string.digits + "_-"


@dataclass(slots=True)
class PendingCode:
    """A verification code sent to a number and not yet used."""

    code: str
    method: str
    language: str
    issued_at: float
    failed_attempts: int = 0

    def describe(self, phone_id: str, ttl: float, now: float) -> dict[str, Any]:
        """Return the control-API view of this code."""
        return {
            "phone_number_id": phone_id,
            "code": self.code,
            "code_method": self.method,
            "language": self.language,
            "issued_at": iso(self.issued_at),
            "expires_at": iso(self.issued_at + ttl),
            "expired": now - self.issued_at > ttl,
            "failed_attempts": self.failed_attempts,
        }


@dataclass(slots=True)
class Upload:
    """One resumable-upload session and, once complete, its handle."""

    session: str
    app_id: str
    file_name: str
    file_type: str
    file_length: int
    created_at: float
    received: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    handle: str | None = None

    @property
    def sha256(self) -> str | None:
        """Hex SHA-256 of the bytes, once the upload is complete."""
        return self.digest.hexdigest() if self.handle is not None else None

    def describe(self) -> dict[str, Any]:
        """Return the control-API view of this upload."""
        return {
            "id": self.session,
            "app_id": self.app_id,
            "file_name": self.file_name,
            "file_type": self.file_type,
            "file_length": self.file_length,
            "received": self.received,
            "complete": self.handle is not None,
            "sha256": self.sha256,
            "handle": self.handle,
            "created_at": iso(self.created_at),
        }


class Runtime:
    """Codes, per-number attempt windows and upload sessions, with a seedable random source."""

    def __init__(self, seed: int | None) -> None:
        self.codes: dict[str, PendingCode] = {}
        self.code_requests: dict[str, deque[float]] = {}
        self.registrations: dict[str, deque[float]] = {}
        self.uploads: dict[str, Upload] = {}
        self.handles: dict[str, Upload] = {}
        self.rng = random.Random(seed)

    def reset(self, seed: int | None) -> None:
        """Forget every record and replay the seed."""
        self.codes.clear()
        self.code_requests.clear()
        self.registrations.clear()
        self.uploads.clear()
        self.handles.clear()
        self.rng = random.Random(seed)

    @staticmethod
    def recent(events: dict[str, deque[float]], key: str, now: float, window: float) -> deque[float]:
        """Return the times recorded under `key` within `window` seconds before `now`, dropping older ones."""
        times = events.setdefault(key, deque())
        while times and times[0] <= now - window:
            times.popleft()
        return times

    def new_code(self) -> str:
        """Return a fresh 6-digit code."""
        return f"{self.rng.randrange(1_000_000):06d}"

    def token(self, length: int) -> str:
        """Return a random URL-safe string (signatures inside ids and handles)."""
        return "".join(self.rng.choice(_SIG_ALPHABET) for _ in range(length))

    def start_upload(self, app_id: str, file_name: str, file_type: str, file_length: int, now: float) -> Upload:
        """Open an upload session; its id looks like Meta's `upload:<base64>?sig=<signature>`."""
        serial = len(self.uploads) + 1
        key = f"1:{file_name}:{file_type}:{file_length}:{serial}:{self.token(8)}"
        encoded = base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")
        session = f"upload:{encoded}?sig=AR{self.token(22)}"
        upload = Upload(session, app_id, file_name, file_type, file_length, now)
        self.uploads[session_key(session)] = upload
        return upload

    def finish_upload(self, upload: Upload, now: float) -> str:
        """Give a complete upload its handle (opaque, `4:`-prefixed like Meta's) and return it."""
        name = base64.urlsafe_b64encode(upload.file_name.encode()).decode().rstrip("=")
        kind = base64.urlsafe_b64encode(upload.file_type.encode()).decode().rstrip("=")
        handle = f"4:{name}:{kind}:AR{self.token(30)}:e:{int(now) + 30 * 86400}:{upload.app_id}:{self.token(12)}"
        upload.handle = handle
        self.handles[handle] = upload
        return handle


def session_key(session: str) -> str:
    """Return the part of an upload id before any `?sig=` (sent raw or %-encoded): what names the session."""
    return unquote(session).split("?", 1)[0]
