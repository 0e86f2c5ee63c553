"""Encryption at rest of AccessKey secrets and Meta tokens with the deployment key (Fernet)."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "secret.key"


class SecretBox:
    """Encrypts and decrypts short secrets; the key never leaves this object."""

    def __init__(self, key: str) -> None:
        # Any operator-chosen string becomes a Fernet key through SHA-256, so OPENCAMS_SECRET_KEY
        # need not be in Fernet's own format.
        digest = hashlib.sha256(key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def __repr__(self) -> str:
        return "SecretBox(<redacted>)"

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError(
                "a stored secret cannot be decrypted: OPENCAMS_SECRET_KEY differs from the key it was sealed with"
            ) from None


def load_or_create_key(data_dir: Path) -> str:
    """The deployment key from `data_dir`, generated once with mode 0600 if absent."""
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
