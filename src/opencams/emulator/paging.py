"""Cursor paging for edges: opaque cursors, page slicing and the `paging` object with links.

Cursors point at an item (as Graph's do): `after` continues past the last item of a page,
`before` ends just ahead of the first. The payload is base64url text so clients cannot treat
it as an offset; it is not tied to a WABA or to the state version.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from .errors import invalid_parameter

T = TypeVar("T")

_PAYLOAD = re.compile(r"^opencams-cursor:([0-9]{1,9})$")


def encode_cursor(index: int) -> str:
    """Return the opaque cursor naming position `index` of a listing."""
    return base64.urlsafe_b64encode(f"opencams-cursor:{index}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, name: str) -> int:
    """Return the position a cursor names; raise GraphError 100 when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = _PAYLOAD.match(text)
    if match is None:
        raise invalid_parameter(f"The {name} cursor '{cursor}' is invalid")
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class Page:
    """The slice [start, end) of a listing of `total` items."""

    start: int
    end: int
    total: int

    @property
    def has_next(self) -> bool:
        """Whether items follow this page."""
        return self.end < self.total

    @property
    def has_previous(self) -> bool:
        """Whether items precede this page."""
        return self.start > 0

    def items(self, listing: Sequence[T]) -> list[T]:
        """Return this page's items of `listing`."""
        return list(listing[self.start : self.end])


def select_page(total: int, limit: int, after: str | None, before: str | None) -> Page:
    """Return the page a request asks for; `after` wins when both cursors are given."""
    if after is not None:
        start = min(decode_cursor(after, "after") + 1, total)
        return Page(start, min(start + limit, total), total)
    if before is not None:
        end = min(decode_cursor(before, "before"), total)
        return Page(max(0, end - limit), end, total)
    return Page(0, min(limit, total), total)


def paging_object(page: Page, url: str, query: Sequence[tuple[str, str]], limit: int) -> dict[str, Any] | None:
    """Return Graph's `paging` object for a non-empty page, or None for an empty one.

    Links reuse the request's own URL (scheme, host, port, version) and query, so a client
    that follows `next` stays on the emulator; the last page keeps `cursors` but has no
    `next`, which is what the SDK's Cursor relies on (meta-graph.md §1).
    """
    if page.start >= page.end:
        return None
    before, after = encode_cursor(page.start), encode_cursor(page.end - 1)
    paging: dict[str, Any] = {"cursors": {"before": before, "after": after}}
    if page.has_next:
        paging["next"] = _link(url, query, limit, "after", after)
    if page.has_previous:
        paging["previous"] = _link(url, query, limit, "before", before)
    return paging


def _link(
    url: str,
    query: Sequence[tuple[str, str]],
    limit: int,
    cursor_name: str,
    cursor: str,
) -> str:
    kept = [(k, v) for k, v in query if k not in {"after", "before", "limit"}]
    kept.append(("limit", str(limit)))
    kept.append((cursor_name, cursor))
    return f"{url}?{urlencode(kept)}"
