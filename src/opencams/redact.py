"""Text that leaves the process or is stored: secrets masked, control characters removed.

Used wherever text that may carry a secret (Meta's error messages, exception texts) is stored,
logged or answered, so there is one rule for all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
# Meta's access tokens (user, page, system-user) start with "EAA" followed by a long base62 run.
# Masked even when they are not ours: Meta echoes tokens it was sent, ours or a neighbour's.
_META_TOKEN = re.compile(r"EAA[A-Za-z0-9]{20,}")
# C0/C1 controls and lone surrogates: they break logs, XML and PostgreSQL text.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every given secret masked, in any letter case, and any Meta token masked."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        # Case-insensitive: Meta has been seen echoing a token upper-cased in an error message.
        text = re.sub(re.escape(secret), MASK, text, flags=re.IGNORECASE)
    return _META_TOKEN.sub(MASK, text)


def clean(text: str, *, limit: int = 1000) -> str:
    """Printable text of at most `limit` characters: control characters and surrogates replaced."""
    text = _UNPRINTABLE.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
