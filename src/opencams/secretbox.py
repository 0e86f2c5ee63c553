"""Encryption at rest of stored secrets (AccessKey secrets, Meta tokens) with the deployment key.

Sealed values are `v2:` + a Fernet token whose key is derived from the deployment key with
scrypt. Values sealed before (a bare Fernet token, key = SHA-256 of the deployment key) still
open, and `opencams admin db upgrade` re-seals them (`db.reseal`).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

KEY_FILE = "secret.key"
PREFIX = "v2:"
# A fixed, versioned salt: every process of a deployment must derive the same key from the same
# passphrase, and there is one key per deployment, so a per-value salt would buy nothing.
_SALT = b"opencams/secretbox/v2"


@functools.lru_cache(maxsize=8)
def _derive(key: str) -> bytes:
    # scrypt (n=2^15, r=8: 32 MiB, about 0.1 s once per process) makes guessing a weak
    # OPENCAMS_SECRET_KEY from a stolen database expensive; the old bare SHA-256 did not.
    return base64.urlsafe_b64encode(Scrypt(salt=_SALT, length=32, n=2**15, r=8, p=1).derive(key.encode()))


class SecretBox:
    """Encrypts and decrypts short secrets; the key never leaves this object."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("the deployment key is empty")
        self._fernet = Fernet(_derive(key))
        # Opens values sealed before the KDF was introduced; never used to seal.
        self._legacy = Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))

    def __repr__(self) -> str:
        return "SecretBox(<redacted>)"

    def seal(self, plaintext: str) -> str:
        return PREFIX + self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        fernet, body = (self._fernet, token[len(PREFIX) :]) if token.startswith(PREFIX) else (self._legacy, token)
        try:
            return fernet.decrypt(body.encode()).decode()
        except InvalidToken:
            raise ValueError(
                "a stored secret cannot be decrypted: OPENCAMS_SECRET_KEY differs from the key it was sealed with"
            ) from None

    @staticmethod
    def is_current(token: str) -> bool:
        """Whether a sealed value uses the current format (else `reseal` should rewrite it)."""
        return token.startswith(PREFIX)


def secure_directory(path: Path) -> None:
    """Create `path` owner-only (0700), or narrow it to that if it is ours and wider."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        path.chmod(0o700)


def load_or_create_key(data_dir: Path) -> str:
    """The deployment key from `data_dir`, generated once (mode 0600) if absent.

    The key is written to a temporary file and linked into place: the file appears complete or
    not at all, so a process starting at the same moment never reads a half-written (empty) key.
    """
    path = data_dir / KEY_FILE
    if path.exists():
        return _read_key(path)
    secure_directory(data_dir)
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".secret.key.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
            fh.flush()
            os.fsync(fh.fileno())
        # Another process may have won the race: then its key is the deployment's key.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"the key file {path} is empty; restore it from a backup or set OPENCAMS_SECRET_KEY")
    return key
