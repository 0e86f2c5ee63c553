"""Identifier formats of cams.md §6: account ids, AccessKey ids and secrets, CustSpaceIds."""

from __future__ import annotations

import secrets
import string

_ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_account_id() -> str:
    """16 digits, not starting with 0."""
    return secrets.choice("123456789") + _random(string.digits, 15)


def new_access_key_id() -> str:
    """`LTAI` followed by 20 letters and digits."""
    return "LTAI" + _random(_ALNUM, 20)


def new_access_key_secret() -> str:
    """30 letters and digits, shown once at creation."""
    return _random(_ALNUM, 30)


def new_space_id() -> str:
    """19 digits, like the page's example CustSpaceId."""
    return secrets.choice("123456789") + _random(string.digits, 18)
